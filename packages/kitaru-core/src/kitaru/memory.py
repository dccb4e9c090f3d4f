"""Durable memory (``kitaru.memory``, SPEC Part B §9) comes in a later release.

Until then every name of this module raises :class:`~kitaru.errors.KitaruFeatureNotAvailableError`
saying so (SPEC decision 20), rather than a bare ``AttributeError`` or a silent no-op.
"""

from __future__ import annotations

from typing import Any

from kitaru.errors import KitaruFeatureNotAvailableError

__all__ = ["NOT_AVAILABLE"]

NOT_AVAILABLE = (
    "Durable memory (kitaru.memory) is not available yet in this version of Kitaru. Keep "
    "state in checkpoint outputs, or save()/load() artifacts, for now."
)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # import machinery and tools probing module attributes
        raise AttributeError(name)
    raise KitaruFeatureNotAvailableError(NOT_AVAILABLE)
