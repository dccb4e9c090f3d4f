"""The hooks the Kitaru MCP server calls. One docstring per hook is its specification.

These specs are added to Kitaru's plugin manager when the server is built
(:func:`kitaru_mcp.server.build_server` calls ``pm.add_hookspecs``), the way pytest plugins
add theirs through ``pytest_addhooks``. Implement them with :data:`kitaru.hookimpl` in a
module named by an entry point in the ``kitaru`` group.

Core validates entry-point plugins when it builds the plugin manager, before the server has
added these specs, so mark the implementation ``@kitaru.hookimpl(optionalhook=True)``;
otherwise core rejects the plugin as implementing an unknown hook.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("kitaru")

__all__ = ["hookspec", "kitaru_register_mcp_tools"]


@hookspec
def kitaru_register_mcp_tools(register: Any) -> None:
    """Add tools to the Kitaru MCP server (``kitaru-mcp``).

    Called once each time a server is built, after the built-in tools are registered.
    Call ``register(function, *, name=None, description=None, read_only=False,
    destructive=False, idempotent=False)`` for each tool:

    * ``function``: a plain (sync or async) function. Its parameters, with their type
      annotations and ``Annotated[..., pydantic.Field(description=...)]`` metadata, become
      the tool's input schema; its return value (JSON-able data or text) is the result.
      Return a dict (or a pydantic model) for structured data: the client gets one JSON
      text block and the same document as structured content. A returned list is sent by
      the MCP SDK as one text block per item (none for an empty list), so wrap lists, as
      the built-in tools do: ``{"items": [...], "count": N}``.
      Raise an exception to fail the call: the client receives an error result reading
      ``"<ExceptionType>: <message>"`` (Kitaru errors are reported by their
      :mod:`kitaru.errors` name).
    * ``name``: the tool name (default: the function's name). Names are unique per server;
      registering a name twice raises :class:`kitaru.errors.KitaruPluginError` naming both
      plugins.
    * ``description``: what an LLM reads (default: the function's docstring; its first
      line is the summary shown in tool lists).
    * ``read_only`` / ``destructive`` / ``idempotent``: MCP tool annotation hints for
      clients (``readOnlyHint``, ``destructiveHint``, ``idempotentHint``). All three are
      always sent; a read-only tool is reported as non-destructive and idempotent.

    Return nothing. Not ``firstresult``, not ``historic``: every plugin is called.
    """
