"""The ``kitaru`` entry point of this distribution: ``from kitaru.adapters import langgraph``
resolves to :mod:`kitaru_langgraph`."""

from __future__ import annotations

from collections.abc import Callable

from kitaru import hookimpl

__all__ = ["kitaru_register_adapters"]


@hookimpl
def kitaru_register_adapters(register: Callable[..., None]) -> None:
    """Serve ``kitaru.adapters.langgraph`` (imported only when first used)."""
    register("langgraph", "kitaru_langgraph")
