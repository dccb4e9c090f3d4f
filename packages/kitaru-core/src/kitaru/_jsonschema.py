"""Checking and coercing wait input against the JSON schema pydantic emitted for ``schema=``.

The input side (client, CLI, MCP, another process) has only the stored JSON schema, not the
Python type. :func:`coerce` walks that schema and applies pydantic's *lax-mode* conversions
for the scalar types it names (``"5"`` → ``5`` for an integer, ``"yes"`` → ``True`` for a
boolean, ``"1.5"`` → ``1.5`` for a number), using pydantic itself for each scalar so the
rules are exactly pydantic's. Unions follow pydantic's smart mode: a branch the value matches
as it is wins; otherwise the first branch it can be converted to. ``enum``/``const`` nodes
(``Literal``, ``Enum``) are not converted, as in pydantic. The coerced value is what gets
stored, so the flow's ``wait()`` (which validates again with the real type) and every reader
see a value of the right JSON type.

Covers the subset pydantic emits: type, enum, const, properties/required/
additionalProperties, items, prefixItems, anyOf/oneOf/allOf, $ref into $defs, min/max
(length, items, value), pattern, and the date/time/uuid string formats.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

_TYPES: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class _Invalid(Exception):
    """A scalar pydantic would not convert."""


def coerce(schema: Mapping[str, Any] | None, value: Any) -> tuple[Any, list[str]]:
    """``value`` converted the way pydantic's lax mode would for ``schema``, and every reason
    it still does not match (empty list: the converted value is valid)."""
    if not schema:
        return value, []
    out: list[str] = []
    converted = _walk(schema, value, "$", schema, out, lax=True)
    return converted, out


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return {}
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _scalar(kind: str, value: Any) -> Any:
    """``value`` as pydantic's lax mode converts it to the JSON type ``kind``."""
    import pydantic

    target: Any = {"integer": int, "number": float, "boolean": bool}.get(kind)
    if target is None or isinstance(value, list | dict):
        raise _Invalid
    try:
        converted = pydantic.TypeAdapter(target).validate_python(value)
    except pydantic.ValidationError:
        raise _Invalid from None
    if isinstance(converted, float) and not math.isfinite(converted):
        raise _Invalid  # "inf"/"nan" are not JSON values
    return converted


def _walk(
    schema: Mapping[str, Any],
    value: Any,
    path: str,
    root: Mapping[str, Any],
    out: list[str],
    *,
    lax: bool,
) -> Any:
    """Check ``value`` against ``schema`` (appending problems to ``out``) and return it,
    converted where ``lax`` allows."""
    schema = _resolve(schema, root)
    literal = "enum" in schema or "const" in schema
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES.get(k, lambda v: True)(value) for k in kinds) and not (
            literal and _is_literal_member(schema, value)
        ):
            for k in kinds if (lax and not literal) else ():
                try:
                    value = _scalar(k, value)
                    break
                except _Invalid:
                    continue
            else:
                out.append(f"{path}: expected {' or '.join(kinds)}, got {_describe(value)}")
                return value
        if "integer" in kinds and "number" not in kinds and isinstance(value, float):
            value = int(value)  # 5.0 is the integer 5 (as pydantic converts it)
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: expected {_json(schema['const'])}, got {_json(value)}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: expected one of {_json(schema['enum'])}, got {_json(value)}")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            value = _union(schema[key], value, path, root, out, lax=lax)
    for sub in schema.get("allOf", []):
        value = _walk(sub, value, path, root, out, lax=lax)
    if isinstance(value, str):
        _check_string(schema, value, path, out)
    if isinstance(value, int | float) and not isinstance(value, bool):
        bounds: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
            ("minimum", lambda a, b: a >= b),
            ("maximum", lambda a, b: a <= b),
            ("exclusiveMinimum", lambda a, b: a > b),
            ("exclusiveMaximum", lambda a, b: a < b),
        )
        for key, ok in bounds:
            if key in schema and not ok(value, schema[key]):
                out.append(f"{path}: violates {key}={schema[key]}")
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        items = schema.get("items")
        converted = []
        for i, item in enumerate(value):
            if i < len(prefix):
                item = _walk(prefix[i], item, f"{path}[{i}]", root, out, lax=lax)
            elif isinstance(items, Mapping):
                item = _walk(items, item, f"{path}[{i}]", root, out, lax=lax)
            converted.append(item)
        value = converted
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{path}: more than {schema['maxItems']} items")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{path}: missing required field '{key}'")
        extra = schema.get("additionalProperties", True)
        fields = {}
        for key, item in value.items():
            if key in props:
                item = _walk(props[key], item, f"{path}.{key}", root, out, lax=lax)
            elif extra is False:
                out.append(f"{path}: unexpected field '{key}'")
            elif isinstance(extra, Mapping):
                item = _walk(extra, item, f"{path}.{key}", root, out, lax=lax)
            fields[key] = item
        value = fields
    return value


def _is_literal_member(schema: Mapping[str, Any], value: Any) -> bool:
    """pydantic's ``Literal``/``Enum`` lookup compares by equality (``True`` is ``1``)."""
    if isinstance(value, list | dict):
        return False
    if "const" in schema:
        return bool(value == schema["const"])
    return value in schema.get("enum", [])


def _union(
    branches: list[Any],
    value: Any,
    path: str,
    root: Mapping[str, Any],
    out: list[str],
    *,
    lax: bool,
) -> Any:
    """pydantic's smart union: the first branch ``value`` matches as it is, else the first
    branch it converts to."""
    for branch in branches:
        if not _problems(branch, value, root, lax=False):
            return value
    if lax:
        for branch in branches:
            problems: list[str] = []
            converted = _walk(branch, value, path, root, problems, lax=True)
            if not problems:
                return converted
    out.append(f"{path}: {_describe(value)} matches none of the allowed shapes")
    return value


def _problems(
    schema: Mapping[str, Any], value: Any, root: Mapping[str, Any], *, lax: bool
) -> list[str]:
    out: list[str] = []
    _walk(schema, value, "$", root, out, lax=lax)
    return out


_FORMATS: dict[str, str] = {
    "date-time": "datetime",
    "date": "date",
    "time": "time",
    "duration": "timedelta",
    "uuid": "UUID",
}


def _check_string(schema: Mapping[str, Any], value: str, path: str, out: list[str]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(f"{path}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(f"{path}: longer than {schema['maxLength']}")
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            if re.search(pattern, value) is None:
                out.append(f"{path}: does not match the pattern {pattern!r}")
        except re.error:
            pass  # a pattern Python's re cannot read: leave it to the flow's pydantic type
    fmt = schema.get("format")
    if fmt in _FORMATS:
        import datetime
        import uuid

        import pydantic

        target = {
            "datetime": datetime.datetime,
            "date": datetime.date,
            "time": datetime.time,
            "timedelta": datetime.timedelta,
            "UUID": uuid.UUID,
        }[_FORMATS[fmt]]
        try:
            pydantic.TypeAdapter(target).validate_python(value)
        except pydantic.ValidationError:
            out.append(f"{path}: {_json(value)} is not a valid {fmt}")


def _describe(value: Any) -> str:
    """``value`` for a message, as its JSON type and JSON text (``null``, ``boolean true``,
    ``string "5"``); objects and arrays by their type alone."""
    for name, test in _TYPES.items():
        if name not in ("integer",) and test(value):
            if name in ("null", "object", "array"):
                return name
            return f"{name} {_json(value)}"
    return type(value).__name__


def _json(value: Any, width: int = 200) -> str:
    """``value`` as JSON text for a message (non-JSON values by ``repr``), shortened."""
    try:
        text = json.dumps(value, default=repr, ensure_ascii=False)
    except ValueError:  # e.g. a circular structure
        text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
