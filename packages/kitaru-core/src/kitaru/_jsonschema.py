"""A small JSON Schema checker for the subset pydantic emits for wait schemas.

Used to reject bad wait input *before* it is stored (the flow then coerces it with the real
pydantic type). Covers: type, enum, const, properties/required/additionalProperties, items,
prefixItems, anyOf/oneOf/allOf, $ref into $defs, min/max (length, items, value).
"""

from __future__ import annotations

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


def errors(schema: Mapping[str, Any] | None, value: Any) -> list[str]:
    """Every reason ``value`` does not match ``schema`` (empty list: it matches)."""
    if not schema:
        return []
    out: list[str] = []
    _check(schema, value, "$", schema, out)
    return out


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


def _check(
    schema: Mapping[str, Any], value: Any, path: str, root: Mapping[str, Any], out: list[str]
) -> None:
    schema = _resolve(schema, root)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
            out.append(f"{path}: expected {' or '.join(kinds)}, got {_describe(value)}")
            return
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: expected one of {schema['enum']!r}, got {value!r}")
    for key in ("anyOf", "oneOf"):
        if key in schema and not any(not errors_in(s, value, root) for s in schema[key]):
            out.append(f"{path}: {_describe(value)} matches none of the allowed shapes")
    for sub in schema.get("allOf", []):
        _check(sub, value, path, root, out)
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{path}: longer than {schema['maxLength']}")
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
        for i, item in enumerate(value):
            if i < len(prefix):
                _check(prefix[i], item, f"{path}[{i}]", root, out)
            elif isinstance(schema.get("items"), Mapping):
                _check(schema["items"], item, f"{path}[{i}]", root, out)
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
        for key, item in value.items():
            if key in props:
                _check(props[key], item, f"{path}.{key}", root, out)
            elif extra is False:
                out.append(f"{path}: unexpected field '{key}'")
            elif isinstance(extra, Mapping):
                _check(extra, item, f"{path}.{key}", root, out)


def errors_in(schema: Mapping[str, Any], value: Any, root: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    _check(schema, value, "$", root, out)
    return out


def _describe(value: Any) -> str:
    for name, test in _TYPES.items():
        if name not in ("integer",) and test(value):
            return f"{name} {value!r}" if name != "object" and name != "array" else name
    return type(value).__name__
