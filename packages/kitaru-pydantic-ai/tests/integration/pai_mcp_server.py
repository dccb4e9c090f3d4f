"""A tiny stdio MCP server for the tests: ``lookup_order`` appends a line to the file named
by ``$PAI_MCP_CALLS`` each time it really runs (so a test can count calls across restarts)."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("orders")


@server.tool()
def lookup_order(order_id: str) -> str:
    """Look up the status of an order."""
    calls = os.environ.get("PAI_MCP_CALLS")
    if calls:
        with open(calls, "a") as f:
            f.write(order_id + "\n")
    return f"order {order_id}: shipped"


if __name__ == "__main__":
    server.run("stdio")
