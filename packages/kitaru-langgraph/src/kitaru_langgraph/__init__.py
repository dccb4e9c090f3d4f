"""Kitaru adapter for LangGraph: a journal-backed checkpointer and durable graph runs.

``from kitaru.adapters import langgraph as klg`` (or ``import kitaru_langgraph as klg``)::

    graph = klg.wrap(builder.compile())

    @flow
    def research(topic: str) -> dict:
        return graph.invoke({"topic": topic})   # every node is a ``graph_node`` checkpoint

The names below are imported on first use: Kitaru loads this distribution's plugin module in
every process, and importing ``langgraph`` there would cost a second per ``kitaru`` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru_langgraph._saver import KitaruCheckpointSaver
    from kitaru_langgraph._wrap import KitaruGraph, wrap

__all__ = ["KitaruCheckpointSaver", "KitaruGraph", "wrap"]

_HOMES = {"KitaruCheckpointSaver": "_saver", "KitaruGraph": "_wrap", "wrap": "_wrap"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kitaru_langgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kitaru_langgraph.{home}"), name)
    if getattr(value, "__module__", "").startswith("kitaru_langgraph"):
        value.__module__ = "kitaru_langgraph"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
