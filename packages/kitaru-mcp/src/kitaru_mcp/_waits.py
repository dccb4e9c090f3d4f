"""Explaining a rejected wait value with a message an LLM can act on.

Core converts a wait's input the way pydantic's lax mode does (``"5"`` for an integer is 5,
``"true"`` for a boolean is ``true``) and rejects what still does not fit. When it does,
:func:`explain` adds what a model most often needs to hear: the JSON type the wait expects,
"pass the value itself, not a string that contains it", the wait's schema, and that the
wait is still pending."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kitaru.errors import KitaruWaitValidationError

__all__ = ["explain", "json_type_of"]

_JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


def json_type_of(value: Any) -> str:
    """The JSON type name of a decoded JSON value (``bool`` is ``boolean``, never
    ``integer``; a float with an integral value counts as ``integer`` too, as in core)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _allowed_types(schema: Mapping[str, Any]) -> list[str] | None:
    """The top-level JSON types ``schema`` allows, or ``None`` when it does not say."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, Sequence) and kind and all(isinstance(k, str) for k in kind):
        return list(kind)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, Sequence) and branches:
        out: list[str] = []
        for branch in branches:
            if not isinstance(branch, Mapping) or "$ref" in branch:
                return None
            sub = _allowed_types(branch)
            if sub is None:
                return None
            out.extend(t for t in sub if t not in out)
        return out
    return None


def _matches(actual: str, allowed: Sequence[str]) -> bool:
    if actual in allowed:
        return True
    return actual == "integer" and "number" in allowed


def explain(
    wait_name: str,
    schema: Mapping[str, Any] | None,
    value: Any,
    error: KitaruWaitValidationError,
) -> KitaruWaitValidationError:
    """``error`` (core's rejection of ``value``) with hints on what to send instead."""
    message = str(error).rstrip(".") + "."
    allowed = _allowed_types(schema) if schema else None
    if allowed is not None and all(t in _JSON_TYPES for t in allowed):
        actual = json_type_of(value)
        if not _matches(actual, allowed):
            message += (
                f" The value must be JSON {' or '.join(allowed)}, got {actual} "
                f"{json.dumps(value, default=repr)[:200]}."
            )
            if "string" in allowed and (value is None or isinstance(value, bool | int | float)):
                message += (
                    f" To send it as text, pass the JSON string {json.dumps(json.dumps(value))}."
                )
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = _missing
            if decoded is not _missing and _matches(json_type_of(decoded), allowed):
                message += (
                    f" Pass the JSON value itself ({json.dumps(decoded)}), not a string that "
                    "contains it."
                )
    if schema:
        message += f" The wait's schema: {json.dumps(schema, sort_keys=True)[:1000]}."
    message += f" The wait '{wait_name}' is still pending."
    return KitaruWaitValidationError(message)


_missing = object()
