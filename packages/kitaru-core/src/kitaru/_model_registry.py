"""Model aliases for ``kitaru.llm()``: ``alias -> provider/model`` (+ optional secret name).

Stored in the user config file (section ``model_registry``); ``KITARU_MODEL_REGISTRY`` (JSON
``{"aliases": {alias: {"model", "secret"}}, "default": alias}``) overlays it per alias, so a
worker or container gets the submitter's aliases even without the file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from kitaru import _userconfig
from kitaru.errors import KitaruUsageError

ALIAS = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, kw_only=True)
class ModelAlias:
    alias: str
    model: str
    secret: str | None = None
    is_default: bool = False


@dataclass(frozen=True, kw_only=True)
class ResolvedModel:
    requested: str | None
    alias: str | None
    model: str
    secret: str | None


def _validate_model(model: Any) -> str:
    if not isinstance(model, str) or not model.strip():
        raise KitaruUsageError("A model must be a non-empty 'provider/model' string.")
    return model.strip()


def _file_registry() -> tuple[dict[str, dict[str, Any]], str | None]:
    try:
        data = _userconfig.section("model_registry") or {}
    except KitaruUsageError:
        data = {}  # a valid environment registry still works with a corrupt file
    aliases = data.get("aliases") or {}
    default = data.get("default")
    return dict(aliases), default if isinstance(default, str) else None


def _env_registry() -> tuple[dict[str, dict[str, Any]], str | None]:
    raw = os.environ.get("KITARU_MODEL_REGISTRY", "").strip()
    if not raw:
        return {}, None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(f"KITARU_MODEL_REGISTRY is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise KitaruUsageError("KITARU_MODEL_REGISTRY must be a JSON object.")
    default = data.get("default")
    return dict(data.get("aliases") or {}), default if isinstance(default, str) else None


def effective_registry() -> tuple[dict[str, dict[str, Any]], str | None]:
    aliases, default = _file_registry()
    env_aliases, env_default = _env_registry()
    aliases.update(env_aliases)
    return aliases, env_default or default


def list_aliases() -> list[ModelAlias]:
    aliases, default = effective_registry()
    return [
        ModelAlias(
            alias=a, model=str(v.get("model")), secret=v.get("secret"), is_default=a == default
        )
        for a, v in sorted(aliases.items())
    ]


def register_alias(alias: str, model: str, *, secret: str | None = None) -> ModelAlias:
    """Add or update an alias. The first alias registered becomes the default."""
    if not isinstance(alias, str) or not ALIAS.match(alias.strip().lower()):
        raise KitaruUsageError(
            f"Invalid model alias {alias!r}: use lower-case letters, digits, '_' and '-', "
            "starting with a letter or digit."
        )
    alias = alias.strip().lower()
    model = _validate_model(model)
    if "/" not in model:
        raise KitaruUsageError(f"Model '{model}' must be written as provider/model.")
    if secret is not None and (not isinstance(secret, str) or not secret.strip()):
        raise KitaruUsageError("secret must be a non-empty secret name.")

    def change(old: Any) -> dict[str, Any]:
        data = dict(old or {})
        aliases = dict(data.get("aliases") or {})
        aliases[alias] = {"model": model, **({"secret": secret.strip()} if secret else {})}
        data["aliases"] = aliases
        if not data.get("default") or data["default"] not in aliases:
            data["default"] = alias
        return data

    data = _userconfig.update("model_registry", change)
    return ModelAlias(alias=alias, model=model, secret=secret, is_default=data["default"] == alias)


def resolve(model: str | None) -> ResolvedModel:
    """explicit model (alias first) -> KITARU_DEFAULT_MODEL -> default alias -> the only alias."""
    aliases, default = effective_registry()

    def by_name(name: str, requested: str | None) -> ResolvedModel:
        entry = aliases.get(name.lower())
        if entry is not None:
            return ResolvedModel(
                requested=requested,
                alias=name.lower(),
                model=str(entry.get("model")),
                secret=entry.get("secret"),
            )
        return ResolvedModel(requested=requested, alias=None, model=name, secret=None)

    if model is not None:
        return by_name(_validate_model(model), model)
    env_default = os.environ.get("KITARU_DEFAULT_MODEL")
    if env_default is not None:
        if not env_default.strip():
            raise KitaruUsageError("KITARU_DEFAULT_MODEL is set but empty.")
        return by_name(env_default.strip(), None)
    if default and default in aliases:
        return by_name(default, None)
    if len(aliases) == 1:
        return by_name(next(iter(aliases)), None)
    if not aliases:
        raise KitaruUsageError(
            "No model alias is configured and no model was given. Pass model='openai/gpt-4o' "
            "(provider/model), set KITARU_DEFAULT_MODEL, or run `kitaru model register`."
        )
    raise KitaruUsageError(
        "Multiple model aliases are configured but no default is set; pass model=... or set "
        "KITARU_DEFAULT_MODEL."
    )
