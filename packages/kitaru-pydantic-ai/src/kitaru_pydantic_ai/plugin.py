"""The ``kitaru`` entry point of this distribution: ``from kitaru.adapters import pydantic_ai``
resolves to :mod:`kitaru_pydantic_ai`."""

from __future__ import annotations

from collections.abc import Callable

from kitaru import hookimpl

__all__ = ["kitaru_register_adapters"]


@hookimpl
def kitaru_register_adapters(register: Callable[..., None]) -> None:
    """Serve ``kitaru.adapters.pydantic_ai`` (imported only when first used)."""
    register("pydantic_ai", "kitaru_pydantic_ai")
