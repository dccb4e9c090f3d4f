"""The metadata merge rule shared by every backend and by ``log()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_metadata(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated with ``values``: dicts merge key-wise (recursively), else replace."""
    out = dict(base)
    for key, value in values.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge_metadata(old, value)
        else:
            out[key] = value
    return out
