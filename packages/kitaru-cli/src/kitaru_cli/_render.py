"""The parts of the output that need no Typer: JSON documents, error messages, terminals.

:mod:`kitaru_cli._output` builds every command's output on these; the Typer-free fast path
of ``kitaru executions list|get -o json`` (:mod:`kitaru_cli._fast`) uses them directly, so
both write the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

__all__ = [
    "FORMATS",
    "dump_json",
    "error_document",
    "message_of",
    "quiet_closed_stdout",
    "stdin_is_tty",
    "stdout_is_tty",
    "usage_error",
]

FORMATS = ("text", "json")


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def quiet_closed_stdout() -> None:
    """After a write found stdout closed by its reader (``kitaru ... | head``): point it at
    the null device, so the flushes still to come (ours, the interpreter's at exit) neither
    fail nor print ``Exception ignored ... BrokenPipeError``."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no real file (tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def usage_error(message: str) -> Exception:
    """A :class:`kitaru.errors.KitaruUsageError` (imported only when there is an error)."""
    from kitaru.errors import KitaruUsageError

    return KitaruUsageError(message)


def _fallback(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        with contextlib.suppress(Exception):
            return dump(mode="json")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def dump_json(document: Any, *, pretty: bool | None = None) -> str:
    """``document`` as JSON: indented for a terminal, compact (no spaces) when piped."""
    if pretty is None:
        pretty = stdout_is_tty()
    if pretty:
        return json.dumps(document, indent=2, default=_fallback, ensure_ascii=False)
    return json.dumps(document, separators=(",", ":"), default=_fallback, ensure_ascii=False)


def message_of(exc: BaseException) -> str:
    """The message shown for ``exc`` (``Error: <this>``, or the JSON error's ``message``)."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    from_kitaru = type(exc).__module__.split(".")[0] == "kitaru"
    if from_kitaru or isinstance(exc, LookupError | ValueError | TimeoutError):
        return text
    return f"{type(exc).__name__}: {text}"


def error_document(
    command: str, exc: BaseException, *, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON error envelope for ``exc`` (written to stderr, compact)."""
    error: dict[str, Any] = {"message": message_of(exc), "type": type(exc).__name__}
    exec_id = getattr(exc, "exec_id", None)
    if isinstance(exec_id, str):
        error["exec_id"] = exec_id
    if extra:
        error.update(extra)
    return {"command": command, "error": error}
