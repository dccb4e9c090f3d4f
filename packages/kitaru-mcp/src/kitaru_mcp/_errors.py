"""Turning exceptions into MCP tool errors that carry the Kitaru error type and message.

The tools themselves are plain functions that raise Kitaru's own exceptions (so
``from kitaru.mcp.server import kitaru_executions_get`` behaves like the client). When a tool
is registered on the server it is wrapped by :func:`as_tool`, which re-raises every failure
as :class:`mcp.server.mcpserver.exceptions.ToolError` with the text ``"<Type>: <message>"``:
the MCP client receives an ``is_error`` result an LLM can read and act on. Without the
wrapper the SDK would report anything but a ``ToolError`` as a bare "Error executing tool".
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["as_tool", "error_type", "tool_error"]

logger = logging.getLogger("kitaru_mcp")

# Failures a caller can act on: bad input, a state that forbids the operation, a missing
# record, a flow file that cannot be imported. Anything else is logged with its traceback.
_ANTICIPATED: tuple[type[BaseException], ...] = (
    LookupError,
    ValueError,
    TypeError,
    OSError,
    ImportError,
    SyntaxError,
    TimeoutError,
    NotImplementedError,
)


def error_type(exc: BaseException) -> str:
    """The public name of ``exc``'s type: the nearest class of :mod:`kitaru.errors`.

    Kitaru raises a few internal subclasses (``ExecutionNotFoundError`` is a
    ``KitaruStateError``); callers match on the documented error tree, so report that name.
    Other exceptions keep their own class name.
    """
    for cls in type(exc).__mro__:
        if cls.__module__ == "kitaru.errors":
            return cls.__name__
    return type(exc).__name__


def tool_error(exc: BaseException) -> ToolError:
    """A :class:`ToolError` reading ``"<Type>: <message>"``."""
    message = str(exc).strip() or "(no message)"
    return ToolError(f"{error_type(exc)}: {message}")


def _translate(exc: Exception) -> ToolError:
    from kitaru.errors import KitaruError

    if not isinstance(exc, (KitaruError, *_ANTICIPATED)):
        logger.error("Unexpected error in a Kitaru MCP tool", exc_info=exc)
    return tool_error(exc)


def as_tool(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn`` (sync or async) so every exception becomes a readable tool error.

    ``functools.wraps`` keeps the signature (and so the input schema) of ``fn``.
    """
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except ToolError:
                raise
            except Exception as exc:
                raise _translate(exc) from exc

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc

    return call
