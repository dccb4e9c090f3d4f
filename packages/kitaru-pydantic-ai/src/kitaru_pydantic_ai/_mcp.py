"""``KitaruMCPToolset``: an MCP server's tools, journaled and tracked as events of kind ``mcp``.

Any ``pydantic_ai.mcp.MCPToolset`` of a wrapped agent is already durable: inside a checkpoint
its tool discovery and every tool call are journaled child events (names
``<agent>__mcp_server__<id>.get_tools`` / ``.call_tool``), so a restarted checkpoint replays
them without contacting the server, and the calls appear in ``pydantic_ai_events`` with
``toolset_kind: "mcp"``. The session is opened by the first event that needs it and held for
the run.

This subclass adds two things a flow needs: it insists, at construction, on the explicit
``id`` those names need (PydanticAI reports a missing one only when a run starts), and it
does not keep a stdio server process alive between runs. Each execution (and each ``await
agent.run()`` in a flow body) runs on its own thread and event loop, and a kept-alive stdio
session belongs to the loop that opened it, so the next run could not use it.
"""

from __future__ import annotations

from typing import Any

from kitaru.errors import KitaruUsageError
from pydantic_ai.mcp import MCPToolset

__all__ = ["KitaruMCPToolset"]


class KitaruMCPToolset(MCPToolset[Any]):
    """An MCP toolset for wrapped agents: ``KitaruMCPToolset(client, id="docs", ...)``.

    Takes every argument of ``pydantic_ai.mcp.MCPToolset`` (``client`` is a URL, a script
    path, a transport, an in-process server or a ``fastmcp.Client``); ``id`` is required
    because it names the toolset's journaled events. Renaming it strands executions that are
    still in flight.
    """

    def __init__(self, client: Any, *, id: str, **kwargs: Any) -> None:
        if not isinstance(id, str) or not id.strip():
            raise KitaruUsageError(
                "KitaruMCPToolset needs an explicit id=... (a non-empty string): it names the "
                "toolset's journaled events, so it must stay the same across restarts."
            )
        super().__init__(client, id=id, **kwargs)
        transport = getattr(self.client, "transport", None)
        if getattr(transport, "keep_alive", None) is True:
            transport.keep_alive = False  # type: ignore[union-attr]
