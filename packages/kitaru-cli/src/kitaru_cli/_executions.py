"""``kitaru executions``: inspect and operate executions in the journal."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from kitaru_cli import _reading, _shapes
from kitaru_cli._common import ExecIdArgument, open_client, resolve_id
from kitaru_cli._output import OutputOption, Session, parse_json_option, session, usage_error

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import Execution

__all__ = ["app"]

# Keyword names that ``KitaruClient().executions.replay`` takes or passes on to the flow's
# replay itself (the execution options of SPEC §1.1 among them): a flow input of the same name
# given with ``--args`` would collide with them.
REPLAY_RESERVED = frozenset(
    {"exec_id", "from_", "overrides", "stack", "image", "cache", "retries", "detached"}
)

app = typer.Typer(
    name="executions",
    help="Inspect and operate executions: get, list, logs, input, replay, retry, resume, cancel.",
)


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def get_command(exec_id: ExecIdArgument, output: OutputOption = "text") -> None:
    """Show one execution: status, wait, failure and checkpoints."""
    with session("executions.get", output) as out:
        execution, pending = _reading.get_execution(exec_id)
        if out.json:
            out.emit_item(_shapes.full(execution, pending=pending))
        else:
            out.snapshot("Execution", _shapes.rows(execution, pending=pending))


def list_command(
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: running, waiting, completed, failed, cancelled."),
    ] = None,
    flow: Annotated[str | None, typer.Option(help="Only executions of this flow.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many (newest first).")] = None,
    output: OutputOption = "text",
) -> None:
    """List executions, newest first."""
    with session("executions.list", output) as out:
        executions = _reading.list_executions(status=status, flow=flow, limit=limit)
        if out.json:
            out.emit_items(_shapes.summaries(executions))
            return
        if not executions:
            out.line("No executions found.")
            return
        out.table(
            ("ID", "Flow", "Status", "Stack"),
            [(e.exec_id, e.flow_name, _shapes.status_text(e), e.stack_name) for e in executions],
        )


FollowOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Then follow the execution to its end, as `kitaru run --wait` does; exit 0 only "
        "if it completed.",
    ),
]


def _action(out: Session, verb: str, execution: Execution, *, wait: bool = False) -> None:
    if wait:
        _follow_to_end(out, execution, verb=verb)
    if out.json:
        out.emit_item(_shapes.full(execution))
        return
    out.line(f"{verb} execution: {execution.exec_id}")
    out.line(f"Status: {_shapes.status_text(execution)}")


def _follow_to_end(out: Session, execution: Execution, *, verb: str) -> NoReturn:
    """``--wait``: say what was done (text), then follow the execution like ``run --wait``."""
    from kitaru import FlowHandle

    from kitaru_cli._run import follow

    if not out.json:
        out.line(f"{verb} execution: {execution.exec_id}")
    code = follow(
        out,
        open_client(),
        FlowHandle(execution.exec_id),
        execution.flow_name,
        announce=False,
    )
    raise typer.Exit(code=code)


def retry_command(
    exec_id: ExecIdArgument, wait: FollowOption = False, output: OutputOption = "text"
) -> None:
    """Continue a failed execution (same id), reusing its completed checkpoints."""
    with session("executions.retry", output) as out:
        client = open_client()
        execution = client.executions.retry(resolve_id(client, exec_id))
        _action(out, "Retried", execution, wait=wait)


def resume_command(
    exec_id: ExecIdArgument, wait: FollowOption = False, output: OutputOption = "text"
) -> None:
    """Continue a waiting execution whose waits are all resolved (same id)."""
    with session("executions.resume", output) as out:
        client = open_client()
        full_id = resolve_id(client, exec_id)
        before = _run_state(client, full_id)
        execution = client.executions.resume(full_id)
        # Resume is idempotent (SPEC decisions 12 and 15): `input` already continues an
        # execution by itself, so a resume after it finds the execution running or finished
        # and succeeds without doing anything. Say so rather than "Resumed".
        if before == "running":
            outcome, note = "already_running", "is already running: nothing was resumed."
        elif before == "completed":
            outcome, note = "already_completed", "has already completed: nothing was resumed."
        else:
            outcome, note = "resumed", None
        if wait and before != "completed":
            _follow_to_end(out, execution, verb="Resumed" if note is None else "Following")
        if out.json:
            out.emit_item(_shapes.full(execution), resume=outcome)
        elif note is None:
            _action(out, "Resumed", execution)
        else:
            out.line(f"Execution {execution.exec_id} {note}")
            out.line(f"Status: {_shapes.status_text(execution)}")


def _run_state(client: KitaruClient, exec_id: str) -> str:
    """The journal state of the execution, after the client's check for a lost runner:
    ``running`` only while a runner drives it (``pending``: submitted, no runner yet)."""
    client.executions.get(exec_id)  # marks an execution whose runner is gone as failed
    return str(client.runtime.backend.get_execution(exec_id).state.value)


def cancel_command(exec_id: ExecIdArgument, output: OutputOption = "text") -> None:
    """Cancel an execution: at once if nothing runs it, else at its next checkpoint boundary,
    journaled step (an agent's model request or tool call) or wait."""
    with session("executions.cancel", output) as out:
        client = open_client()
        execution = client.executions.cancel(resolve_id(client, exec_id))
        status = _shapes.status_text(execution)
        # A runner that drives the execution stops at its next checkpoint boundary, journaled
        # child event or in wait() (SPEC decision 15): until then the cancel is only requested.
        done = status == "cancelled"
        if out.json:
            out.emit_item(_shapes.full(execution), cancel="cancelled" if done else "requested")
            return
        if done:
            out.line(f"Cancelled execution: {execution.exec_id}")
        else:
            out.line(f"Cancel requested for execution: {execution.exec_id}")
            out.line(
                "It stops at its next checkpoint boundary, agent step (model request or tool "
                "call) or wait."
            )
        out.line(f"Status: {status}")


def replay_command(
    exec_id: ExecIdArgument,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Checkpoint to replay from (name, invocation id or call id). Calls before "
            "it (and before any overridden call) reuse the source's outputs; waits are asked "
            "again (never answered in advance).",
        ),
    ] = None,
    args: Annotated[
        str | None,
        typer.Option("--args", help="Flow inputs to replace, as a JSON object: '{\"x\": 3}'."),
    ] = None,
    overrides: Annotated[
        str | None,
        typer.Option(
            "--overrides",
            help="Checkpoint outputs to inject, as a JSON object: '{\"checkpoint.NAME\": 1}'.",
        ),
    ] = None,
    wait: FollowOption = False,
    output: OutputOption = "text",
) -> None:
    """Start a new execution from an earlier one, re-running from a checkpoint."""
    with session("executions.replay", output) as out:
        if from_ is None or not from_.strip():
            raise usage_error("`--from` is required: the checkpoint to replay from.")
        flow_inputs = parse_json_option("--args", args, require_object=True) or {}
        override_map = parse_json_option("--overrides", overrides, require_object=True)
        reserved = sorted(REPLAY_RESERVED.intersection(flow_inputs))
        if reserved:
            raise usage_error(
                f"`--args` cannot set {', '.join(map(repr, reserved))}: these names are "
                "replay and execution options, not flow inputs."
            )
        client = open_client()
        source_id = resolve_id(client, exec_id)
        # Core submits the new execution to a detached worker, so this returns at once. It
        # imports the flow's module here first: what that prints goes to stderr, keeping
        # stdout for our own output.
        with contextlib.redirect_stdout(sys.stderr):
            execution = client.executions.replay(
                source_id, from_=from_.strip(), overrides=override_map, **flow_inputs
            )
        if wait:
            if not out.json:
                out.line(f"Replayed execution: {source_id}")
            _follow_to_end(out, execution, verb="New")
        if out.json:
            out.emit_item(_shapes.full(execution))
            return
        out.line(f"Replayed execution: {source_id}")
        out.line(f"New execution: {execution.exec_id}")
        out.line(f"Status: {_shapes.status_text(execution)}")


def _register_commands() -> None:
    from kitaru_cli import _input, _logs

    app.command("get")(get_command)
    app.command("list")(list_command)
    app.command("logs")(_logs.logs_command)
    app.command("input")(_input.input_command)
    app.command("replay")(replay_command)
    app.command("retry")(retry_command)
    app.command("resume")(resume_command)
    app.command("cancel")(cancel_command)


_register_commands()
