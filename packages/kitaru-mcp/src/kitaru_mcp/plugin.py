"""The built-in MCP tools, registered through the same hook third-party plugins use.

Named by the ``mcp`` entry point in the ``kitaru`` group. Importing this module is cheap (no
MCP SDK import): core loads every entry point whenever it builds its plugin manager.
"""

from __future__ import annotations

from typing import Any

from kitaru.plugins import hookimpl

__all__ = ["BUILTIN_TOOLS", "kitaru_register_mcp_tools"]

# (name, read_only, destructive), in the order tools are listed.
BUILTIN_TOOLS: tuple[tuple[str, bool, bool], ...] = (
    ("kitaru_executions_list", True, False),
    ("kitaru_executions_get", True, False),
    ("kitaru_executions_latest", True, False),
    ("get_execution_logs", True, False),
    ("kitaru_executions_run", False, False),
    ("kitaru_executions_pending_waits", True, False),
    ("kitaru_executions_input", False, False),
    ("kitaru_executions_abort_wait", False, True),
    ("kitaru_executions_retry", False, False),
    ("kitaru_executions_resume", False, False),
    ("kitaru_executions_replay", False, False),
    ("kitaru_executions_cancel", False, True),
    ("kitaru_artifacts_list", True, False),
    ("kitaru_artifacts_get", True, False),
    ("kitaru_status", True, False),
    ("kitaru_stacks_list", True, False),
    ("manage_stack", False, True),
)


@hookimpl(optionalhook=True)
def kitaru_register_mcp_tools(register: Any) -> None:
    from kitaru_mcp import server

    for name, read_only, destructive in BUILTIN_TOOLS:
        register(getattr(server, name), read_only=read_only, destructive=destructive)
