"""The Kitaru MCP server: the tools as plain functions, and the server that serves them.

Every tool is importable and callable as a plain function, here and from
``kitaru.mcp.server`` (SPEC A.24), returning the same JSON-able structures the MCP client
receives (the list tools return a plain list, which the client receives as
``{"items": [...], "count": N}``)::

    from kitaru.mcp.server import kitaru_status, kitaru_executions_list

``get_execution_logs`` and ``manage_stack`` keep the specification's names (no ``kitaru_``
prefix).

:func:`build_server` builds an :class:`~mcp.server.mcpserver.MCPServer` named ``kitaru``
with the built-in tools and those plugins add through the ``kitaru_register_mcp_tools`` hook
(:mod:`kitaru_mcp.hookspecs`); :func:`get_server` (also the module attribute ``server``)
builds one on first use and keeps it. Nothing is built at import.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kitaru_mcp._artifacts import kitaru_artifacts_get, kitaru_artifacts_list
from kitaru_mcp._executions import (
    get_execution_logs,
    kitaru_executions_abort_wait,
    kitaru_executions_cancel,
    kitaru_executions_get,
    kitaru_executions_input,
    kitaru_executions_latest,
    kitaru_executions_list,
    kitaru_executions_pending_waits,
    kitaru_executions_replay,
    kitaru_executions_resume,
    kitaru_executions_retry,
    kitaru_executions_run,
)
from kitaru_mcp._system import (
    kitaru_stacks_list,
    kitaru_status,
    manage_stack,
)

if TYPE_CHECKING:
    import pluggy
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

__all__ = [
    "build_server",
    "get_execution_logs",
    "get_server",
    "kitaru_artifacts_get",
    "kitaru_artifacts_list",
    "kitaru_executions_abort_wait",
    "kitaru_executions_cancel",
    "kitaru_executions_get",
    "kitaru_executions_input",
    "kitaru_executions_latest",
    "kitaru_executions_list",
    "kitaru_executions_pending_waits",
    "kitaru_executions_replay",
    "kitaru_executions_resume",
    "kitaru_executions_retry",
    "kitaru_executions_run",
    "kitaru_stacks_list",
    "manage_stack",
    "kitaru_status",
]

SERVER_NAME = "kitaru"
INSTRUCTIONS = """\
Kitaru runs durable Python flows: executions made of checkpoints that survive crashes, and
that can pause in wait() for input. Use these tools to start flows, watch executions, answer
their waits, read their logs and artifacts, and retry, resume, replay or cancel them.
Statuses: running, waiting (blocked in wait(): answer it with kitaru_executions_input),
completed, failed (kitaru_executions_retry continues it), cancelled. Execution ids may be
shortened to a unique prefix of at least 6 characters."""

_HOOK = "kitaru_register_mcp_tools"
_spec_lock = threading.Lock()
_server_lock = threading.Lock()
_server: MCPServer | None = None


class _Registry:
    """The ``register`` callable handed to each ``kitaru_register_mcp_tools`` plugin."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self.owners: dict[str, str] = {}

    def for_plugin(self, owner: str) -> Callable[..., None]:
        def register(
            function: Callable[..., Any],
            *,
            name: str | None = None,
            description: str | None = None,
            read_only: bool = False,
            destructive: bool = False,
            idempotent: bool = False,
        ) -> None:
            self.add(
                owner,
                function,
                name=name,
                description=description,
                read_only=read_only,
                destructive=destructive,
                idempotent=idempotent,
            )

        return register

    def add(
        self,
        owner: str,
        function: Callable[..., Any],
        *,
        name: str | None,
        description: str | None,
        read_only: bool,
        destructive: bool,
        idempotent: bool = False,
    ) -> None:
        from kitaru.errors import KitaruPluginError

        from kitaru_mcp._errors import as_tool

        if not callable(function):
            raise KitaruPluginError(
                f"Plugin '{owner}' registered an MCP tool that is not callable: {function!r}."
            )
        tool_name = name if name is not None else getattr(function, "__name__", None)
        if not isinstance(tool_name, str) or not tool_name.strip() or tool_name == "<lambda>":
            raise KitaruPluginError(f"Plugin '{owner}' registered an MCP tool with no name.")
        if tool_name in self.owners:
            raise KitaruPluginError(
                f"MCP tool '{tool_name}' is registered twice: by '{self.owners[tool_name]}' "
                f"and by '{owner}'."
            )
        text = description if description is not None else (function.__doc__ or "")
        annotations = _annotations(
            read_only=read_only, destructive=destructive, idempotent=idempotent
        )
        try:
            self.server.add_tool(
                as_tool(function),
                name=tool_name,
                description=_dedent(text),
                annotations=annotations,
            )
        except Exception as exc:
            raise KitaruPluginError(
                f"Plugin '{owner}' registered MCP tool '{tool_name}', which the MCP server "
                f"rejected: {type(exc).__name__}: {exc}"
            ) from exc
        self.owners[tool_name] = owner


def _annotations(*, read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """The MCP tool hints, all three always set so clients never fall back to the
    protocol's defaults (which assume a tool may destroy data). A read-only tool changes
    nothing, so it is also non-destructive and idempotent."""
    from mcp_types import ToolAnnotations

    if read_only:
        return ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
    return ToolAnnotations(
        read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent
    )


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text) if text else ""


def add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Teach ``pm`` the ``kitaru_register_mcp_tools`` hook (idempotent)."""
    from kitaru_mcp import hookspecs

    with _spec_lock:
        caller = getattr(pm.hook, _HOOK, None)
        if caller is None or not caller.has_spec():
            pm.add_hookspecs(hookspecs)


def build_server(
    *, plugin_manager: pluggy.PluginManager | None = None, load_plugins: bool = True
) -> MCPServer:
    """A new MCP server named ``kitaru`` with the built-in tools and (unless
    ``load_plugins=False``) the tools plugins register on ``plugin_manager`` (default: Kitaru's
    process-wide plugin manager)."""
    from kitaru.plugins import get_plugin_manager
    from mcp.server.mcpserver import MCPServer

    from kitaru_mcp import plugin as builtin

    # log_level: MCPServer calls logging.basicConfig with it (a no-op when the host already
    # configured logging, as kitaru-mcp's main does); keep library use quiet.
    server: MCPServer = MCPServer(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=_version(),
        log_level="WARNING",
        warn_on_duplicate_tools=False,
    )
    registry = _Registry(server)
    # The built-in tools come first and are always there, whether or not entry points load.
    builtin.kitaru_register_mcp_tools(register=registry.for_plugin("kitaru_mcp"))
    if load_plugins:
        pm = plugin_manager or get_plugin_manager()
        add_hookspecs(pm)
        for impl in getattr(pm.hook, _HOOK).get_hookimpls():
            if impl.plugin is builtin:
                continue
            register = registry.for_plugin(impl.plugin_name)
            impl.function(**({"register": register} if "register" in impl.argnames else {}))
    return server


def get_server() -> MCPServer:
    """The process's server, built by :func:`build_server` on first use and kept."""
    global _server
    if _server is None:
        with _server_lock:
            if _server is None:
                _server = build_server()
    return _server


def _version() -> str:
    try:
        return importlib.metadata.version("kitaru-mcp")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "server":
        return get_server()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
