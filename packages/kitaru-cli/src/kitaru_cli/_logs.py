"""``kitaru executions logs``: captured runtime output, once or followed until the end."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli._common import ExecIdArgument, open_client, resolve_id
from kitaru_cli._output import OutputOption, Session, long_running, session, usage_error
from kitaru_cli._shapes import answer_command, to_jsonable, when

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import CheckpointCall, LogEntry

__all__ = ["format_entry", "logs_command"]

SOURCES = ("step", "runner", "all")
RULE_WIDTH = 60
_sleep = time.sleep  # the poll pause (tests replace it)


def logs_command(
    exec_id: ExecIdArgument,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            help="Only lines from one checkpoint invocation: its invocation id (work, work_2) "
            "or call id, or its name if only one invocation has it.",
        ),
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
        bool,
        typer.Option(
            "--grouped", help="Print a section per checkpoint invocation, and one for the flow."
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="Repeat for more: -v adds time and level; -vv also where each line came "
            "from (checkpoint invocation or flow; module for logging).",
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
        calls: Sequence[CheckpointCall] = client.executions.get(full_id).checkpoints
        if checkpoint is not None:
            calls = _note_other_invocations(out, calls, checkpoint.strip())
        if source != "runner":
            _note_cached(out, calls)
        if not entries:
            out.line(f"No log entries found for execution {full_id}.")
            out.line(_hint(full_id, source=source, checkpoint=checkpoint))
            return
        printer.print_all(entries, order=[c.invocation_id for c in calls])


def _note_other_invocations(
    out: Session, calls: Sequence[CheckpointCall], selector: str
) -> list[CheckpointCall]:
    """``--checkpoint work`` selects the invocation ``work`` alone (SPEC decision 8): say so
    when other invocations of the same checkpoint (``work_2``, ...) were left out. Returns
    the selected call (as a list)."""
    chosen = next((c for c in calls if selector in (c.invocation_id, c.call_id)), None)
    if chosen is None:
        chosen = next((c for c in calls if c.name == selector), None)  # a unique name
    if chosen is None:
        return []
    others = [c.invocation_id for c in calls if c.name == chosen.name and c is not chosen]
    if others and selector == chosen.name:  # the name given may have meant them all
        out.note(
            f"Note: showing invocation '{chosen.invocation_id}' only; checkpoint "
            f"'{chosen.name}' also ran as {', '.join(others)} (select one with `--checkpoint`, "
            "or drop it for all)."
        )
    return [chosen]


def _note_cached(out: Session, calls: Sequence[CheckpointCall]) -> None:
    """A cache hit returned an earlier execution's output without running: its prints and
    logs are in that execution, so say where."""
    for call in calls:
        if call.cached_from:
            source_id = call.cached_from.split("/", 1)[0]
            out.note(
                f"Note: checkpoint '{call.invocation_id}' was a cache hit: it did not run "
                f"here, its output was reused from {call.cached_from}; see "
                f"`kitaru executions logs {source_id}`."
            )


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
    return "Hint: the execution has not printed or logged anything (so far)."


def format_entry(entry: LogEntry, *, verbose: int) -> str:
    """One log line: the message; ``-v`` adds time and level; ``-vv`` where it came from."""
    if verbose <= 0:
        return entry.message
    parts = [when(entry.timestamp), (entry.level or "INFO").upper()]
    if verbose >= 2:
        parts.append(f"[{_origin(entry)}]")
    parts.append(entry.message)
    return " ".join(parts)


def _origin(entry: LogEntry) -> str:
    """Where a line came from, for ``-vv``: the checkpoint invocation (``work_2``, with its
    attempt from the second on) or ``flow`` (the flow body and engine), then for a
    ``logging`` record the module that logged it (``module myapp``); prints have none."""
    invocation = _invocation(entry)
    where = invocation if invocation is not None else "flow"
    if invocation is not None and entry.attempt is not None and entry.attempt > 1:
        where += f", attempt {entry.attempt}"
    if entry.module:
        where += f", module {entry.module}"
    return where


def _invocation(entry: LogEntry) -> str | None:
    return entry.invocation_id or entry.checkpoint_name


def _group(entry: LogEntry) -> str:
    invocation = _invocation(entry)
    return f"checkpoint: {invocation}" if invocation is not None else "flow"


class _Printer:
    def __init__(self, out: Session, *, verbose: int, grouped: bool) -> None:
        self.out = out
        self.verbose = verbose
        self.grouped = grouped
        self._section: str | None = None
        self._attempts: dict[str, int] = {}  # the attempt of each invocation's last line

    def print_all(self, entries: Sequence[LogEntry], *, order: Sequence[str] = ()) -> None:
        """Print ``entries``; grouped: the flow's section first, then one per checkpoint
        invocation in the flow's call ``order`` (invocation ids), others as they come."""
        if self.grouped:
            groups: dict[str, list[LogEntry]] = {"flow": []}
            groups.update((f"checkpoint: {inv}", []) for inv in order)
            for entry in entries:
                groups.setdefault(_group(entry), []).append(entry)
            entries = [e for group in groups.values() for e in group]
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
            self._attempt_boundary(entry)
            self.out.line(format_entry(entry, verbose=self.verbose))

    def _attempt_boundary(self, entry: LogEntry) -> None:
        """A marker line where a checkpoint's lines pass from one attempt to the next (a
        retry after a failure or a lost runner), so two attempts' output does not run
        together."""
        invocation = entry.invocation_id
        if invocation is None or entry.attempt is None:
            return
        previous = self._attempts.get(invocation)
        self._attempts[invocation] = entry.attempt
        # Only between two attempts' lines: an attempt that printed nothing needs no marker
        # (``-vv`` still tags every line of a later attempt with its number).
        if previous is not None and entry.attempt != previous:
            self.out.line(f"[Checkpoint {invocation}: attempt {entry.attempt}]")


def new_entries(entries: Sequence[Any], printed: Counter[tuple[Any, ...]]) -> list[Any]:
    """The entries of this poll not printed by an earlier one; ``printed`` is updated.

    Lines are journaled in batches per checkpoint and flow body, and ``--source all`` sorts
    them by time, so a line flushed late can land before lines already printed: new lines
    are told by content (time, source, invocation, level, text), counted so that two equal
    lines both print, not by position.
    """
    current: Counter[tuple[Any, ...]] = Counter()
    out = []
    for entry in entries:
        key = (entry.timestamp, entry.source, entry.invocation_id, entry.level, entry.message)
        current[key] += 1
        if current[key] > printed[key]:
            out.append(entry)
    printed |= current
    return out


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
    printed: Counter[tuple[Any, ...]] = Counter()
    announced: set[str] = set()

    def catch_up() -> None:
        printer.print_new(new_entries(client.executions.logs(exec_id, **query), printed))

    try:
        while True:
            execution = client.executions.get(exec_id)
            catch_up()
            status = execution.status.value
            wait = execution.pending_wait
            if status == "waiting" and wait is not None and wait.wait_id not in announced:
                announced.add(wait.wait_id)
                # How to answer it, as `run --wait` says (`--wait NAME` among several).
                only = len(client.executions.pending_waits(exec_id)) <= 1
                answer = answer_command(exec_id, wait.name, only=only)
                if out.json:
                    item = {"exec_id": exec_id, "wait": wait.name, "wait_id": wait.wait_id}
                    if wait.question:
                        item["question"] = wait.question
                    item["input_command"] = answer
                    out.emit_event("waiting", item)
                else:
                    out.line(f"[Execution is waiting for input on: {wait.name}]")
                    out.line(f"To answer it, run: {answer}")
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
            out.line(
                "A usage error: fix the code (or the setting) the message names, then retry: "
                f"{recovery}"
            )
        else:
            out.line(f"To retry it, run: {recovery}")
    else:
        out.line("[Execution cancelled]")
    return 0 if status == "completed" else 1
