"""``kitaru executions input``: answer (or abort) a pending wait, or review waits interactively."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli import _output, _shapes
from kitaru_cli._common import open_client, resolve_id
from kitaru_cli._output import OutputOption, Session, parse_json_option, session, usage_error

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import PendingWait

__all__ = ["input_command", "is_interactive_terminal"]

ACTION_PROMPT = "Action [c=continue, a=abort, s=skip, q=quit]"
ACTIONS = {
    "c": "continue",
    "continue": "continue",
    "a": "abort",
    "abort": "abort",
    "s": "skip",
    "skip": "skip",
    "q": "quit",
    "quit": "quit",
}


def is_interactive_terminal() -> bool:
    """Whether stdin and stdout are both terminals (needed by ``--interactive``)."""
    return _output.stdin_is_tty() and _output.stdout_is_tty()


def input_command(
    exec_id: Annotated[
        str | None,
        typer.Argument(help="Execution id or unique prefix (optional with --interactive)."),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option(
            "--value",
            help="The input, as JSON (e.g. 5, true, '\"text\"'); a bare word such as yes is "
            "taken as a string. It is converted to the wait's schema as pydantic does "
            '("5" -> 5, "yes" -> true).',
        ),
    ] = None,
    wait: Annotated[
        str | None,
        typer.Option("--wait", help="Wait name or id (default: the single pending wait)."),
    ] = None,
    abort: Annotated[
        bool, typer.Option("--abort", help="Abort the wait: the execution ends cancelled.")
    ] = False,
    interactive: Annotated[
        bool,
        typer.Option("--interactive", "-i", help="Review pending waits one by one and answer."),
    ] = False,
    output: OutputOption = "text",
) -> None:
    """Give input to a waiting execution; it continues automatically."""
    with session("executions.input", output) as out:
        if interactive:
            if value is not None or abort:
                raise usage_error("`--interactive` cannot be combined with `--value` or `--abort`.")
            if wait is not None:
                raise usage_error("`--interactive` cannot be combined with `--wait`.")
            if out.json:
                raise usage_error("`--interactive` cannot be combined with `--output json`.")
            if not is_interactive_terminal():
                raise usage_error(
                    "`--interactive` needs a terminal (stdin and stdout must be TTYs)."
                )
            raise typer.Exit(code=_review(out, exec_id))
        if exec_id is None:
            raise usage_error("Give an execution id (or use `--interactive`).")
        if abort and value is not None:
            raise usage_error("`--abort` cannot be combined with `--value`.")
        if not abort and value is None:
            raise usage_error("`--value` is required (or use `--abort` / `--interactive`).")
        if wait is not None and not wait.strip():
            raise usage_error("`--wait` must be a non-empty wait name or id.")
        parsed = None if abort else _parse_value(value)
        from kitaru.errors import KitaruWaitValidationError

        client = open_client()
        full_id = resolve_id(client, exec_id)
        selected = wait.strip() if wait is not None else _single_wait(client, full_id).name
        label = _wait_name(client, full_id, selected)
        if abort:
            execution = client.executions.abort_wait(full_id, wait=selected)
        else:
            try:
                execution = client.executions.input(full_id, wait=selected, value=parsed)
            except KitaruWaitValidationError as exc:
                hint = _quote_hint(client, full_id, selected, parsed, value)
                if hint is None:
                    raise
                raise KitaruWaitValidationError(f"{str(exc).rstrip('.')}. {hint}") from None
        # The value as stored: converted to the wait's schema ("5" -> 5 for an int wait).
        stored = None if abort else _stored_value(execution, selected)
        if out.json:
            extra = {} if stored is None else {"wait": label, "value": stored[0]}
            out.emit_item(_shapes.full(execution), **extra)
            return
        verb = "Aborted" if abort else "Resolved"
        out.line(f"{verb} wait '{label}' of execution {full_id}.")
        if stored is not None:
            out.line(f"Value: {json.dumps(stored[0], ensure_ascii=False, default=repr)}")
        status = _shapes.status_text(execution)
        out.line(f"Status: {status}")
        if status == "failed" and not abort:
            # Its runner was lost while it listened: the answer is kept for the retry.
            out.line(f"It does not continue by itself: kitaru executions retry {full_id}")


def _parse_value(text: str | None) -> Any:
    """The ``--value`` text as JSON; a bare word that is not JSON (``yes``, ``hello``) is
    taken as a string, as the inline prompt of a local run does. Text that looks like a JSON
    object, array or string but does not parse is a usage error."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        stripped = text.strip()
        if not stripped or stripped[0] in '{["':
            return parse_json_option("--value", text)  # raises the usage error
        return text


def _quote_hint(
    client: KitaruClient, exec_id: str, selector: str, parsed: Any, text: str | None
) -> str | None:
    """For a wait that takes a string, given ``--value`` text that parsed as another JSON
    scalar (``5``, ``true``, ``null``): how to send that text as a string instead."""
    if text is None or isinstance(parsed, str | dict | list):
        return None
    schema = next(
        (
            w.schema
            for w in client.executions.pending_waits(exec_id)
            if selector in (w.name, w.wait_id)
        ),
        None,
    )
    if not isinstance(schema, dict) or not _takes_string(schema):
        return None
    quoted = shlex.quote(json.dumps(text.strip()))
    return (
        f"--value {text.strip()} is read as JSON; to send it as a string, quote it: "
        f"--value {quoted}"
    )


def _takes_string(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    return any(
        isinstance(s, dict) and _takes_string(s)
        for key in ("anyOf", "oneOf")
        for s in schema.get(key, [])
    )


def _stored_value(execution: Any, selector: str) -> tuple[Any] | None:
    """``(value,)`` of the resolved wait ``selector`` names, as the journal stored it."""
    for wait in reversed(execution.waits):
        if selector in (wait.name, wait.wait_id) and wait.status == "resolved":
            return (wait.value,)
    return None


def _wait_name(client: KitaruClient, exec_id: str, selector: str) -> str:
    """The name of the pending wait ``selector`` (a name or a wait id) picks, for messages."""
    for pending in client.executions.pending_waits(exec_id):
        if selector in (pending.name, pending.wait_id):
            return pending.name
    return selector  # the client raises the error that names the pending waits


def _single_wait(client: KitaruClient, exec_id: str) -> PendingWait:
    from kitaru.errors import KitaruStateError

    pending = client.executions.pending_waits(exec_id)
    if not pending:
        raise KitaruStateError(
            f"Execution '{exec_id}' has no pending waits to resolve.", exec_id=exec_id
        )
    if len(pending) > 1:
        names = ", ".join(w.name for w in pending)
        raise KitaruStateError(
            f"Execution '{exec_id}' has {len(pending)} pending waits ({names}). Choose one "
            "with `--wait NAME`, or use `--interactive`.",
            exec_id=exec_id,
        )
    return pending[0]


def _review(out: Session, exec_id: str | None) -> int:
    """Prompt for every pending wait (of one execution, or of all waiting ones)."""
    from kitaru.errors import KitaruError, KitaruWaitValidationError

    _output.long_running()  # waits for the operator for as long as they take
    client = open_client()
    if exec_id is not None:
        targets = [resolve_id(client, exec_id)]
    else:
        targets = [e.exec_id for e in client.executions.list(status="waiting")]
        if not targets:
            out.line("No executions are waiting for input.")
            return 0
    counts = {"resolved": 0, "aborted": 0, "skipped": 0, "failed": 0}
    for target in targets:
        waits = client.executions.pending_waits(target)
        if not waits and exec_id is not None:
            out.line(f"Execution {target} has no pending waits.")
        for pending in waits:
            _show(out, client, target, pending)
            action = _ask_action()
            if action == "quit":
                return _summary(out, counts)
            if action == "skip":
                counts["skipped"] += 1
                continue
            try:
                if action == "abort":
                    client.executions.abort_wait(target, wait=pending.wait_id)
                    counts["aborted"] += 1
                    out.line(f"Aborted wait '{pending.name}'.")
                    break  # the execution is cancelled: its other waits are gone
                while True:
                    answer = _ask_value()
                    try:
                        client.executions.input(target, wait=pending.wait_id, value=answer)
                    except KitaruWaitValidationError as exc:
                        out.note(f"Error: {exc}")
                        continue
                    break
                counts["resolved"] += 1
                out.line(f"Resolved wait '{pending.name}'.")
            except KitaruError as exc:
                counts["failed"] += 1
                out.note(f"Error: {exc}")
    return _summary(out, counts)


def _show(out: Session, client: KitaruClient, exec_id: str, pending: PendingWait) -> None:
    execution = client.executions.get(exec_id)
    # In full (nothing shortened): the reviewer approves exactly what is shown, e.g. which
    # call of an agent's tool, with which arguments.
    asked = _shapes.wait_rows(pending, prefix="", width=None)
    rows = [("Execution", exec_id), ("Flow", execution.flow_name), ("Wait", pending.name)]
    rows += [(label.capitalize(), value) for label, value in asked[1:]]
    out.snapshot("Pending wait", rows)


def _ask_action() -> str:
    while True:
        answer = typer.prompt(ACTION_PROMPT).strip().lower()
        if answer in ACTIONS:
            return ACTIONS[answer]
        typer.echo("Please answer c, a, s or q.", err=True)


def _ask_value() -> Any:
    while True:
        text = typer.prompt("Value (JSON; empty = null)", default="", show_default=False)
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if text.strip()[0] not in '{["':
                return text.strip()  # a bare word is taken as a string
            typer.echo(f"Error: Invalid JSON: {exc}.", err=True)


def _summary(out: Session, counts: dict[str, int]) -> int:
    out.line(", ".join(f"{n} {label}" for label, n in counts.items()) + ".")
    return 1 if counts["failed"] else 0
