"""Kitaru adapter for PydanticAI: durable, tracked agent runs inside flows.

``from kitaru.adapters import pydantic_ai as kp`` (or ``import kitaru_pydantic_ai as kp``)::

    agent = kp.wrap(Agent(model, name="support", tools=[...]))

    @flow
    def support(question: str) -> str:
        return agent.run_sync(question).output   # checkpoint support_agent_run_1

The names below are imported on first use: Kitaru loads this distribution's plugin module in
every process, and importing ``pydantic_ai`` there would cost seconds per ``kitaru`` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru_pydantic_ai._agent import KitaruAgent, wrap
    from kitaru_pydantic_ai._capture import CaptureConfig
    from kitaru_pydantic_ai._engine import KitaruDurability
    from kitaru_pydantic_ai._hitl import hitl_tool
    from kitaru_pydantic_ai._mcp import KitaruMCPToolset

__all__ = [
    "CaptureConfig",
    "KitaruAgent",
    "KitaruDurability",
    "KitaruMCPToolset",
    "hitl_tool",
    "wrap",
]

_HOMES = {
    "CaptureConfig": "_capture",
    "KitaruAgent": "_agent",
    "KitaruDurability": "_engine",
    "KitaruMCPToolset": "_mcp",
    "hitl_tool": "_hitl",
    "wrap": "_agent",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kitaru_pydantic_ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kitaru_pydantic_ai.{home}"), name)
    if getattr(value, "__module__", "").startswith("kitaru_pydantic_ai"):
        value.__module__ = "kitaru_pydantic_ai"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
