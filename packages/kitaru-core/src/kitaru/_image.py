"""``ImageSettings``: container settings for container stack types (the local stack ignores
them, but they are validated and frozen into the execution spec)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from kitaru.errors import KitaruUsageError

__all__ = ["ImageSettings", "coerce_image"]


class ImageSettings(pydantic.BaseModel):
    """Container image settings. Extra fields are rejected; strings are trimmed."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    base_image: str | None = None
    requirements: list[str] | None = None
    dockerfile: str | None = None
    build_context_root: str | None = None
    environment: dict[str, str] | None = None
    apt_packages: list[str] | None = None
    replicate_local_python_environment: bool | None = None
    image_tag: str | None = None
    target_repository: str | None = None
    user: str | None = None
    platform: str | None = None

    @pydantic.field_validator(
        "base_image",
        "dockerfile",
        "build_context_root",
        "image_tag",
        "target_repository",
        "user",
        "platform",
    )
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("must not be empty")
        return value


ImageSettings.__module__ = "kitaru"


def coerce_image(value: Any) -> dict[str, Any]:
    """Accept a string (base image), a mapping or ``ImageSettings``; return a plain dict."""
    if isinstance(value, ImageSettings):
        settings = value
    elif isinstance(value, str):
        if not value.strip():
            raise KitaruUsageError("image must not be an empty string.")
        settings = ImageSettings(base_image=value)
    elif isinstance(value, Mapping):
        data = dict(value)
        if "parent_image" in data and "base_image" not in data:
            data["base_image"] = data.pop("parent_image")
        try:
            settings = ImageSettings.model_validate(data)
        except pydantic.ValidationError as exc:
            raise KitaruUsageError(f"Invalid image settings: {exc}") from exc
    else:
        raise KitaruUsageError(
            f"image must be a string, a mapping or ImageSettings, got {type(value).__name__}."
        )
    return settings.model_dump(exclude_none=True)
