"""Names of checkpoints and flows: non-word runs become ``_``, a leading digit gets a prefix."""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"\W+")


def sanitize(name: str, *, kind: str) -> str:
    cleaned = _NON_WORD.sub("_", name).strip("_")
    if not cleaned:
        return kind
    if cleaned[0].isdigit():
        return f"{kind}_{cleaned}"
    return cleaned
