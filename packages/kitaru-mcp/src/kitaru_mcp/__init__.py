"""Kitaru's MCP server (``kitaru-mcp``): the tools live in :mod:`kitaru_mcp.server`."""

from __future__ import annotations

__all__: list[str] = []
