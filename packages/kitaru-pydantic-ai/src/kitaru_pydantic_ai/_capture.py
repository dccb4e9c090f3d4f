"""What is recorded for a tool call: :class:`CaptureConfig` and its per-tool resolution.

Capture only decides what is *tracked* (event metadata, args/result artifacts, timings). Every
tool call inside a checkpoint is journaled for replay whatever its capture mode, because
durability must not depend on how much a user chose to observe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kitaru.errors import KitaruUsageError

__all__ = ["CaptureConfig", "CapturePolicy", "ResolvedCapture", "check_capture_args"]

CaptureMode = Literal["full", "metadata_only", "off"]
_MODES: dict[str, tuple[bool, bool, bool, bool]] = {
    # mode: (enabled, save_args, save_result, include_timings)
    "full": (True, True, True, True),
    "metadata_only": (True, False, False, True),
    "off": (False, False, False, False),
}


@dataclass(frozen=True, kw_only=True)
class ResolvedCapture:
    """The effective switches for one tool (what :class:`CaptureConfig` resolves to)."""

    mode: str
    enabled: bool
    save_args: bool
    save_result: bool
    include_timings: bool


@dataclass(frozen=True, kw_only=True)
class CaptureConfig:
    """How much of a tool call to record.

    Args:
        mode: ``"full"`` (default: event metadata, args and result artifacts, timings),
            ``"metadata_only"`` (event metadata and timings, no artifacts) or ``"off"``.
        enabled: override whether the event is tracked at all.
        save_args: override whether the ``<event>_args`` artifact is saved.
        save_result: override whether the ``<event>_result`` artifact is saved.
        include_timings: override whether ``duration_ms`` is recorded.

    Raises:
        KitaruUsageError: (a ``ValueError``) for an unknown ``mode`` or an override that is
            not ``True``, ``False`` or ``None``.
    """

    mode: CaptureMode = "full"
    enabled: bool | None = None
    save_args: bool | None = None
    save_result: bool | None = None
    include_timings: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.mode, str) or self.mode not in _MODES:
            raise KitaruUsageError(
                f"Unknown capture mode {self.mode!r}; expected one of: {', '.join(_MODES)}."
            )
        for field in ("enabled", "save_args", "save_result", "include_timings"):
            value = getattr(self, field)
            if value is not None and not isinstance(value, bool):
                raise KitaruUsageError(
                    f"CaptureConfig({field}=...) must be True, False or None (None keeps the "
                    f"mode's default), got {value!r}."
                )

    def resolve(self) -> ResolvedCapture:
        """The effective switches: the mode's defaults with the explicit overrides applied."""
        enabled, args, result, timings = _MODES[self.mode]
        enabled = enabled if self.enabled is None else self.enabled
        return ResolvedCapture(
            mode=self.mode,
            enabled=enabled,
            save_args=enabled and (args if self.save_args is None else self.save_args),
            save_result=enabled and (result if self.save_result is None else self.save_result),
            include_timings=timings if self.include_timings is None else self.include_timings,
        )


_OFF = CaptureConfig(mode="off").resolve()


class CapturePolicy:
    """Per-tool capture: ``by_name[tool]`` (``None`` = off), else the default config; and one
    config for model requests (``save_args`` / ``save_result`` are the prompt / response)."""

    def __init__(
        self,
        default: CaptureConfig | None = None,
        by_name: Mapping[str, CaptureConfig | None] | None = None,
        model: CaptureConfig | None = None,
    ) -> None:
        check_capture_args(default, by_name, model)
        self.model = (model or CaptureConfig()).resolve()
        self._default = (default or CaptureConfig()).resolve()
        self._by_name = {
            name: (_OFF if config is None else config.resolve())
            for name, config in (by_name or {}).items()
        }

    def for_tool(self, name: str) -> ResolvedCapture:
        """The capture switches for tool ``name``."""
        return self._by_name.get(name, self._default)


def check_capture_args(default: Any, by_name: Any, model: Any) -> None:
    """Refuse capture arguments of the wrong type, naming the argument (``kp.wrap``'s names)."""
    for arg, value in (("tool_capture_config", default), ("model_capture_config", model)):
        if value is not None and not isinstance(value, CaptureConfig):
            raise KitaruUsageError(
                f"kp.wrap({arg}=...) must be a kp.CaptureConfig(...) or None, got {value!r}. "
                'Example: kp.CaptureConfig(mode="metadata_only").'
            )
    if by_name is None:
        return
    if not isinstance(by_name, Mapping):
        raise KitaruUsageError(
            "kp.wrap(tool_capture_config_by_name=...) must be a mapping of tool name to "
            f"kp.CaptureConfig(...) or None (None turns the tool's capture off), got {by_name!r}. "
            'Example: {"search": kp.CaptureConfig(mode="metadata_only"), "secret": None}.'
        )
    for name, config in by_name.items():
        if not isinstance(name, str):
            raise KitaruUsageError(
                "kp.wrap(tool_capture_config_by_name=...) keys must be tool names (strings), "
                f"got {name!r}."
            )
        if config is not None and not isinstance(config, CaptureConfig):
            raise KitaruUsageError(
                f"kp.wrap(tool_capture_config_by_name[{name!r}]) must be a kp.CaptureConfig(...) "
                f"or None (capture off), got {config!r}."
            )
