"""``kitaru.mcp.server``: the MCP tools as plain functions (from ``kitaru-mcp``)."""

from __future__ import annotations

from typing import Any

from kitaru.mcp import load

_server = load("kitaru_mcp.server")
__all__: list[str] = list(getattr(_server, "__all__", []))
globals().update({name: getattr(_server, name) for name in __all__})


def __getattr__(name: str) -> Any:
    return getattr(_server, name)
