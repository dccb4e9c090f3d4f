"""The built-in MCP tools, registered through the same hook third-party plugins use.

Named by the ``mcp`` entry point in the ``kitaru`` group. Importing this module is cheap (no
MCP SDK import): core loads every entry point whenever it builds its plugin manager.
"""

from __future__ import annotations

import typing
from typing import Any

from kitaru.plugins import hookimpl

__all__ = ["BUILTIN_TOOLS", "kitaru_register_mcp_tools"]

# (name, read_only, destructive, idempotent), in the order tools are listed. Read-only tools
# are also non-destructive and idempotent. Idempotent: asking again changes nothing more
# (resume of a running execution, a second cancel while one is pending).
BUILTIN_TOOLS: tuple[tuple[str, bool, bool, bool], ...] = (
    ("kitaru_executions_list", True, False, True),
    ("kitaru_executions_get", True, False, True),
    ("kitaru_executions_latest", True, False, True),
    ("get_execution_logs", True, False, True),
    ("kitaru_executions_run", False, False, False),
    ("kitaru_executions_pending_waits", True, False, True),
    ("kitaru_executions_input", False, False, False),
    ("kitaru_executions_abort_wait", False, True, False),
    ("kitaru_executions_retry", False, False, False),
    ("kitaru_executions_resume", False, False, True),
    ("kitaru_executions_replay", False, False, False),
    ("kitaru_executions_cancel", False, True, True),
    ("kitaru_artifacts_list", True, False, True),
    ("kitaru_artifacts_get", True, False, True),
    ("kitaru_status", True, False, True),
    ("kitaru_stacks_list", True, False, True),
    ("manage_stack", False, True, False),
)


@hookimpl(optionalhook=True)
def kitaru_register_mcp_tools(register: Any) -> None:
    from kitaru_mcp import server
    from kitaru_mcp._shapes import as_item_list

    for name, read_only, destructive, idempotent in BUILTIN_TOOLS:
        function = getattr(server, name)
        # A tool that returns a list is served as {"items": [...], "count": N}: one JSON text
        # block, also for an empty list (see kitaru_mcp._shapes).
        if typing.get_origin(typing.get_type_hints(function).get("return")) is list:
            function = as_item_list(function)
        register(
            function,
            name=name,
            read_only=read_only,
            destructive=destructive,
            idempotent=idempotent,
        )
