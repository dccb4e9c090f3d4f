"""JSON form of Claude Agent SDK messages, for the journal and for checkpoint results.

SDK messages and content blocks are dataclasses. A dataclass becomes a dict tagged with its
class name under ``"__sdk__"``; decoding looks the class up in ``claude_agent_sdk.types`` and
rebuilds it, so a replayed run returns the same message objects a live run yields. A tagged
class the installed SDK does not know decodes to the plain dict.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["decode", "decode_all", "encode", "encode_all"]

TAG = "__sdk__"


def encode(value: Any) -> Any:
    """``value`` as JSON data (dataclasses tagged, unknown objects as their ``repr``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {TAG: type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = encode(getattr(value, f.name))
        return out
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    name = value.get(TAG)
    data = {k: decode(v) for k, v in value.items() if k != TAG}
    if not isinstance(name, str):
        return data
    from claude_agent_sdk import types

    cls: Any = getattr(types, name, None)
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        return data
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: v for k, v in data.items() if k in init})


def encode_all(messages: list[Any]) -> list[Any]:
    return [encode(m) for m in messages]


def decode_all(data: list[Any]) -> list[Any]:
    return [decode(m) for m in data]
