"""``kitaru executions logs``: captured runtime output, once or followed until the end."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli._common import ExecIdArgument, open_client, resolve_id
from kitaru_cli._output import OutputOption, Session, long_running, session, usage_error
from kitaru_cli._shapes import to_jsonable, when

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import LogEntry

__all__ = ["format_entry", "logs_command"]

SOURCES = ("step", "runner", "all")
RULE_WIDTH = 60
_sleep = time.sleep  # the poll pause (tests replace it)


def logs_command(
    exec_id: ExecIdArgument,
    checkpoint: Annotated[
        str | None, typer.Option(help="Only lines from this checkpoint (name or invocation id).")
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            help="step: inside checkpoints; runner: flow body and engine; all: both.",
            metavar="step|runner|all",
        ),
    ] = "step",
    limit: Annotated[
        int | None, typer.Option(help="At most this many lines (oldest first).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until it ends.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --follow.")] = 1.0,
    grouped: Annotated[
        bool, typer.Option("--grouped", help="Print a section per checkpoint.")
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="-v: time and level; -vv: also the checkpoint."
        ),
    ] = 0,
    output: OutputOption = "text",
) -> None:
    """Show the runtime logs (prints and logging) captured for an execution."""
    with session("executions.logs", output) as out:
        source = source.strip().lower()
        if source not in SOURCES:
            raise usage_error("`--source` must be one of: step, runner, all.")
        if grouped and out.json:
            raise usage_error("`--grouped` cannot be combined with `--output json`.")
        if checkpoint is not None:
            if not checkpoint.strip():
                raise usage_error("`--checkpoint` must be a non-empty checkpoint name.")
            if source == "runner":
                raise usage_error(
                    "`--checkpoint` cannot be combined with `--source runner` (runner logs "
                    "belong to no checkpoint)."
                )
        if interval <= 0:
            raise usage_error("`--interval` must be greater than 0.")
        if limit is not None and limit < 1:
            raise usage_error("`--limit` must be at least 1.")
        client = open_client()
        full_id = resolve_id(client, exec_id)
        printer = _Printer(out, verbose=verbose, grouped=grouped)
        query: dict[str, Any] = {"checkpoint": checkpoint, "source": source, "limit": limit}
        if follow:
            code = _follow(client, full_id, out, printer, query, interval)
            raise typer.Exit(code=code)
        entries = client.executions.logs(full_id, **query)
        if out.json:
            out.emit_items([to_jsonable(e) for e in entries])
            return
        if not entries:
            out.line(f"No log entries found for execution {full_id}.")
            out.line(_hint(full_id, source=source, checkpoint=checkpoint))
            return
        printer.print_all(entries)


def _hint(exec_id: str, *, source: str, checkpoint: str | None) -> str:
    if checkpoint is not None:
        return (
            f"Hint: check the checkpoint names with `kitaru executions get {exec_id}`, or "
            "drop `--checkpoint`."
        )
    if source == "step":
        return (
            "Hint: only output from inside checkpoints is shown; use `--source runner` for "
            "the flow body or `--source all` for both."
        )
    if source == "runner":
        return "Hint: use `--source step` (inside checkpoints) or `--source all`."
    return "Hint: the execution has not printed or logged anything yet."


def format_entry(entry: LogEntry, *, verbose: int) -> str:
    """One log line: the message; ``-v`` adds time and level; ``-vv`` the checkpoint."""
    if verbose <= 0:
        return entry.message
    parts = [when(entry.timestamp), (entry.level or "INFO").upper()]
    if verbose >= 2:
        parts.append(f"[{entry.checkpoint_name or entry.module or entry.source or 'flow'}]")
    parts.append(entry.message)
    return " ".join(parts)


def _group(entry: LogEntry) -> str:
    if entry.checkpoint_name:
        return f"checkpoint: {entry.checkpoint_name}"
    return "flow"


class _Printer:
    def __init__(self, out: Session, *, verbose: int, grouped: bool) -> None:
        self.out = out
        self.verbose = verbose
        self.grouped = grouped
        self._section: str | None = None

    def print_all(self, entries: Sequence[LogEntry]) -> None:
        if self.grouped:
            order: dict[str, list[LogEntry]] = {}
            for entry in entries:
                order.setdefault(_group(entry), []).append(entry)
            entries = [e for group in order.values() for e in group]
        self.print_new(entries)

    def print_new(self, entries: Sequence[LogEntry]) -> None:
        for entry in entries:
            if self.out.json:
                self.out.emit_event("log", to_jsonable(entry))
                continue
            if self.grouped:
                section = _group(entry)
                if section != self._section:
                    if self._section is not None:
                        self.out.line()
                    title = f"── {section} "
                    self.out.line(title + "─" * max(3, RULE_WIDTH - len(title)))
                    self._section = section
            self.out.line(format_entry(entry, verbose=self.verbose))


def _follow(
    client: KitaruClient,
    exec_id: str,
    out: Session,
    printer: _Printer,
    query: dict[str, Any],
    interval: float,
) -> int:
    """Print new lines every ``interval`` seconds until the execution ends; the exit code."""
    long_running()
    seen = 0  # the journal returns lines in append order, so new lines come after `seen`
    announced: set[str] = set()

    def catch_up() -> None:
        nonlocal seen
        entries = client.executions.logs(exec_id, **query)
        printer.print_new(entries[seen:])
        seen = max(seen, len(entries))

    try:
        while True:
            execution = client.executions.get(exec_id)
            catch_up()
            status = execution.status.value
            wait = execution.pending_wait
            if status == "waiting" and wait is not None and wait.wait_id not in announced:
                announced.add(wait.wait_id)
                if out.json:
                    item = {"exec_id": exec_id, "wait": wait.name, "wait_id": wait.wait_id}
                    if wait.question:
                        item["question"] = wait.question
                    out.emit_event("waiting", item)
                else:
                    out.line(f"[Execution is waiting for input on: {wait.name}]")
            if execution.status.is_finished:
                _sleep(min(interval, 0.5))  # lines flushed as the segment ended
                catch_up()
                return _terminal(out, exec_id, status, execution)
            _sleep(interval)
    except KeyboardInterrupt:
        if out.json:
            out.emit_event("interrupted", {"exec_id": exec_id})
        else:
            out.line("[Log follow interrupted]")
        return 1


def _terminal(out: Session, exec_id: str, status: str, execution: Any) -> int:
    message = execution.failure.message if execution.failure is not None else None
    # A usage failure (wait() inside a @checkpoint, ...) fails again unless the code changes.
    usage = execution.failure is not None and execution.failure.origin == "usage"
    recovery = f"kitaru executions retry {exec_id}" if status == "failed" else None
    if out.json:
        item: dict[str, Any] = {"exec_id": exec_id, "status": status}
        if message:
            item["message"] = message
        if recovery:
            item["recovery_command"] = recovery
        out.emit_event("terminal", item)
    elif status == "completed":
        out.line("[Execution completed successfully]")
    elif status == "failed":
        out.line(f"[Execution failed: {message or 'no failure message recorded'}]")
        if usage:
            out.line(f"A usage error: fix the code as the message says, then retry: {recovery}")
        else:
            out.line(f"To retry it, run: {recovery}")
    else:
        out.line("[Execution cancelled]")
    return 0 if status == "completed" else 1
