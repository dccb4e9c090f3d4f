"""Output for every command: the ``--output`` option, JSON envelopes, text snapshots and tables,
and turning exceptions into ``Error: ...`` (text) or an error envelope on stderr (JSON).

Text goes through rich (panels, tables, colour) only when stdout is a terminal; piped text is
plain ``Label: value`` lines and space-aligned tables without escape codes. JSON is one document
on stdout (or one event per line for streams); errors always go to stderr with exit code 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, NoReturn

import typer

from kitaru_cli._render import (
    FORMATS,
    dump_json,
    error_document,
    message_of,
    quiet_closed_stdout,
    stdin_is_tty,
    stdout_is_tty,
    usage_error,
)

__all__ = [
    "OutputOption",
    "Session",
    "dump_json",
    "fail",
    "long_running",
    "parse_json_option",
    "session",
    "stdin_is_tty",
    "stdout_is_tty",
    "usage_error",
]

OutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="Output format: text or json.",
        show_default=True,
        metavar="text|json",
    ),
]


def long_running() -> None:
    """Turn the cyclic garbage collector back on (``main`` turns it off for short commands)
    before a command starts polling for an unbounded time."""
    import gc

    gc.enable()


def parse_json_option(flag: str, text: str | None, *, require_object: bool = False) -> Any:
    """Parse the JSON given to ``flag``; errors name the flag."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(f"Invalid JSON for `{flag}`: {exc}.") from None
    if require_object and not isinstance(value, dict):
        raise usage_error(f"`{flag}` must be a JSON object, got {type(value).__name__}: {text}")
    return value


class Session:
    """What one command invocation prints, in the format the user asked for."""

    def __init__(self, command: str, fmt: str = "text") -> None:
        self.command = command
        self.format = fmt

    @property
    def json(self) -> bool:
        return self.format == "json"

    @property
    def rich(self) -> bool:
        return not self.json and stdout_is_tty()

    # -- JSON ------------------------------------------------------------------------------

    def emit_item(self, item: Mapping[str, Any], **extra: Any) -> None:
        """``{"command": ..., "item": item}`` plus any ``extra`` top-level keys."""
        document = {"command": self.command, "item": item, **extra}
        typer.echo(dump_json(document, pretty=stdout_is_tty()))

    def emit_items(self, items: Sequence[Any]) -> None:
        document = {"command": self.command, "items": list(items), "count": len(items)}
        typer.echo(dump_json(document, pretty=stdout_is_tty()))

    def emit_event(self, event: str, item: Mapping[str, Any]) -> None:
        """One JSON Lines event of a stream (``logs --follow -o json``)."""
        line = dump_json({"command": self.command, "event": event, "item": item}, pretty=False)
        typer.echo(line)
        with contextlib.suppress(Exception):
            sys.stdout.flush()

    # -- text ------------------------------------------------------------------------------

    def line(self, text: str = "") -> None:
        typer.echo(text)

    def note(self, text: str) -> None:
        """Progress, hints and warnings: stderr, so stdout stays data."""
        typer.echo(text, err=True)

    def snapshot(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        """A title and ``Label: value`` rows (a rich panel on a terminal)."""
        if self.rich:
            from rich.console import Console
            from rich.panel import Panel
            from rich.table import Table
            from rich.text import Text

            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column()
            for label, value in rows:
                grid.add_row(label, Text(value, style=_style(label, value)))
            Console(highlight=False).print(
                Panel(grid, title=Text(title), title_align="left", expand=False)
            )
            return
        typer.echo(title)
        for label, value in rows:
            typer.echo(f"  {label}: {value}")

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A table (rich on a terminal, space-aligned columns when piped)."""
        if self.rich:
            from rich.console import Console
            from rich.table import Table
            from rich.text import Text

            table = Table(*columns, highlight=False)
            for row in rows:
                table.add_row(
                    *(
                        Text(cell, style=_style(col, cell))
                        for col, cell in zip(columns, row, strict=True)
                    )
                )
            Console(highlight=False).print(table)
            return
        widths = [len(c) for c in columns]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        for row in (columns, *rows):
            typer.echo(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )

    # -- errors ----------------------------------------------------------------------------

    def fail(
        self,
        exc: BaseException,
        *,
        extra: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> NoReturn:
        """Report ``exc`` on stderr (``message`` instead of its own, if given) and exit 1."""
        if self.json:
            document = error_document(self.command, exc, extra=extra)
            if message is not None:
                document["error"]["message"] = message
            typer.echo(dump_json(document, pretty=False), err=True)
        else:
            typer.echo(f"Error: {message if message is not None else message_of(exc)}", err=True)
        raise typer.Exit(code=1)


STATUS_STYLES = {
    "running": "cyan",
    "waiting": "yellow",
    "completed": "green",
    "failed": "red",
    "cancelled": "magenta",
}


def _style(label: str, value: str) -> str:
    """Colour for a status cell on a terminal (no style for anything else)."""
    return STATUS_STYLES.get(value, "") if label == "Status" else ""


def fail(command: str, fmt: str, exc: BaseException) -> NoReturn:
    Session(command, fmt if fmt in FORMATS else "text").fail(exc)


@contextlib.contextmanager
def session(command: str, output: str) -> Iterator[Session]:
    """Validate ``--output`` and turn any error in the body into the error output (exit 1).

    Typer's own exits and usage errors pass through unchanged.
    """
    current = Session(command)
    try:
        fmt = (output or "").strip().lower()
        if fmt not in FORMATS:
            raise usage_error("`--output` must be either `text` or `json`.")
        current = Session(command, fmt)
        yield current
    except BrokenPipeError:
        # A reader that went away (`| head`) is not an error: end quietly, with success (left
        # to Typer, it would exit 1).
        quiet_closed_stdout()
        raise typer.Exit(code=0) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        from typer.exceptions import TyperException

        if isinstance(exc, TyperException):
            raise
        current.fail(exc)
