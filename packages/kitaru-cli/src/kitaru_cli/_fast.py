"""``kitaru executions list|get ... -o json`` without Typer.

Scripts call these two in loops, and Typer costs about 75 ms of each call (importing Typer,
click and pydantic, building the command tree and the pydantic adapters Typer checks options
with; ``list --limit 1 -o json``: 100-110 ms without, 170-190 ms with, benchmarks/bench_cli.py
machine). So :func:`run` takes the plain command lines of these two commands and answers them
with the same code the Typer commands run (:mod:`kitaru_cli._reading`,
:mod:`kitaru_cli._shapes`, :mod:`kitaru_cli._render`): same validation, same document, same
errors, same exit codes.

Anything else returns None and goes through Typer as usual: another command, text output,
``--help``, an option given twice or in a form not listed below, a value that starts with
``-``, a ``--limit`` that is not a plain number, or a stdout that is not UTF-8 (click
re-encodes those) or stderr. Accepted forms::

    kitaru executions list [--status S] [--flow F] [--limit N] (-o | --output) json
    kitaru executions get ID (-o | --output) json

in any order, each option as ``--name value`` or ``--name=value``.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["parse", "run"]

_OPTIONS = {
    "list": {
        "--status": "status",
        "--flow": "flow",
        "--limit": "limit",
        "--output": "output",
        "-o": "output",
    },
    "get": {"--output": "output", "-o": "output"},
}


def parse(args: list[str]) -> tuple[str, str | None, dict[str, str]] | None:
    """``(command, exec_id, options)`` for a command line :func:`run` takes, else None."""
    if len(args) < 2 or args[0] != "executions" or args[1] not in _OPTIONS:
        return None
    command = args[1]
    names = _OPTIONS[command]
    options: dict[str, str] = {}
    positional: list[str] = []
    rest = args[2:]
    index = 0
    while index < len(rest):
        token = rest[index]
        index += 1
        if not token.startswith("-"):
            positional.append(token)
            continue
        flag, eq, value = token.partition("=")
        if flag not in names or (eq and flag == "-o"):
            return None  # --help, --, unknown options, -o=...
        if not eq:
            if index >= len(rest):
                return None
            value = rest[index]
            index += 1
        key = names[flag]
        if key in options or value.startswith("-"):
            return None
        options[key] = value
    if options.get("output", "").strip().lower() != "json":
        return None  # text goes through Typer (rich tables, click's ANSI handling)
    if "limit" in options and not (options["limit"].isascii() and options["limit"].isdigit()):
        return None
    if command == "get":
        return (command, positional[0], options) if len(positional) == 1 else None
    return (command, None, options) if not positional else None


def _utf8(stream: Any) -> bool:
    encoding = getattr(stream, "encoding", None)
    if stream is None or not encoding:
        return False
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def run(args: list[str]) -> int | None:
    """Run ``args`` if :func:`parse` takes it and stdout and stderr are UTF-8; the exit code,
    else None."""
    parsed = parse(args)
    if parsed is None or not (_utf8(sys.stdout) and _utf8(sys.stderr)):
        return None
    command, exec_id, options = parsed
    body: Callable[[], dict[str, Any]]
    if command == "get":
        assert exec_id is not None
        body = lambda: _get(exec_id)  # noqa: E731
    else:
        limit = options.get("limit")
        body = lambda: _list(  # noqa: E731
            status=options.get("status"),
            flow=options.get("flow"),
            limit=None if limit is None else int(limit),
        )
    name = f"executions.{command}"
    from kitaru_cli._render import dump_json, error_document

    try:
        document = {"command": name, **body()}
    except KeyboardInterrupt:
        return 130  # as Typer: no message, the exit code of SIGINT
    except BrokenPipeError:
        raise
    except Exception as exc:  # as `_output.session` reports errors in JSON mode
        sys.stderr.write(dump_json(error_document(name, exc), pretty=False) + "\n")
        sys.stderr.flush()
        return 1
    sys.stdout.write(dump_json(document) + "\n")
    sys.stdout.flush()
    return 0


def _list(*, status: str | None, flow: str | None, limit: int | None) -> dict[str, Any]:
    from kitaru_cli import _reading, _shapes

    items = _shapes.summaries(_reading.list_executions(status=status, flow=flow, limit=limit))
    return {"items": items, "count": len(items)}


def _get(exec_id: str) -> dict[str, Any]:
    from kitaru_cli import _reading, _shapes

    execution, pending = _reading.get_execution(exec_id)
    return {"item": _shapes.full(execution, pending=pending)}
