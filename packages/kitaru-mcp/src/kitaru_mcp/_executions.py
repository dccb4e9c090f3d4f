"""The execution tools: list, inspect, start, answer waits, retry, resume, replay, cancel.

Each tool is a plain function that returns JSON-able data (SPEC §5 shapes) and raises
Kitaru's own exceptions; the server wraps them so failures become MCP tool errors. Every
``exec_id`` parameter accepts a full execution id or a unique prefix of at least 6 characters.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from kitaru import KitaruClient
from kitaru.errors import KitaruWaitValidationError
from pydantic import Field

from kitaru_mcp import _shapes
from kitaru_mcp._waits import explain

__all__ = [
    "get_execution_logs",
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
]

StatusName = Literal["running", "waiting", "completed", "failed", "cancelled"]

ExecId = Annotated[
    str,
    Field(
        description="Execution id (a UUID) or a unique prefix of it (at least 6 characters).",
        min_length=1,
    ),
]
StatusFilter = Annotated[
    StatusName | None,
    Field(description="Only executions with this status (waiting = blocked in wait())."),
]
FlowFilter = Annotated[
    str | None, Field(description="Only executions of the flow with this exact name.")
]
StackFilter = Annotated[
    str | None, Field(description="Only executions that ran on the stack with this name.")
]
WaitSelector = Annotated[
    str,
    Field(
        description="The pending wait to answer: its name (preferred) or its wait id. "
        "See kitaru_executions_pending_waits.",
        min_length=1,
    ),
]


def _client() -> KitaruClient:
    return KitaruClient()


def _resolve(client: KitaruClient, exec_id: str) -> str:
    return client.executions.resolve_id(exec_id)


def kitaru_executions_list(
    status: StatusFilter = None,
    flow: FlowFilter = None,
    stack: StackFilter = None,
    limit: Annotated[
        int | None, Field(description="Return at most this many executions.", ge=1)
    ] = None,
) -> list[dict[str, Any]]:
    """List executions, newest first, as summaries.

    Each summary has exec_id, flow_name, status, started_at/ended_at, stack_name, the pending
    wait or failure if any, and checkpoint_count/artifact_count. Use kitaru_executions_get for
    checkpoints and artifacts.
    """
    client = _client()
    if stack is None:
        return _shapes.summaries(client.executions.list(flow=flow, status=status, limit=limit))
    items = [e for e in client.executions.list(flow=flow, status=status) if e.stack_name == stack]
    return _shapes.summaries(items if limit is None else items[:limit])


def kitaru_executions_get(exec_id: ExecId) -> dict[str, Any]:
    """Get one execution in full: status, pending wait, failure, checkpoints, artifacts.

    Checkpoints are listed in call order with their status, attempts, failure and the
    artifacts they produced; the flow's return value is the artifact named "result".
    """
    client = _client()
    return _shapes.full(client.executions.get(_resolve(client, exec_id)))


def kitaru_executions_latest(
    status: StatusFilter = None,
    flow: FlowFilter = None,
    stack: StackFilter = None,
) -> dict[str, Any]:
    """Get the most recent execution (optionally of one flow, status or stack) in full."""
    client = _client()
    if stack is None:
        return _shapes.full(client.executions.latest(flow=flow, status=status))
    for item in client.executions.list(flow=flow, status=status):
        if item.stack_name == stack:
            return _shapes.full(client.executions.get(item.exec_id))
    parts = [
        f"{k}={v!r}"
        for k, v in (("flow", flow), ("status", status), ("stack", stack))
        if v is not None
    ]
    raise LookupError(f"No executions found for {' and '.join(parts)}.")


def get_execution_logs(
    exec_id: ExecId,
    checkpoint: Annotated[
        str | None,
        Field(
            description="Only lines of one checkpoint invocation: its invocation id (work, "
            "work_2) or call id, or its name when only one invocation has it."
        ),
    ] = None,
    source: Annotated[
        Literal["step", "runner", "all"],
        Field(
            description="'step': lines from inside checkpoints; 'runner': the flow body and "
            "engine; 'all': both."
        ),
    ] = "step",
    limit: Annotated[int, Field(description="Return at most this many lines.", ge=1)] = 200,
) -> str:
    """Get an execution's captured runtime logs as plain text, oldest first.

    One line per entry: "<timestamp> <LEVEL> [<invocation>] <message>" (missing parts are
    left out; a retried checkpoint's later attempts read "[<invocation>, attempt N]"); "No log
    entries found." when there are none.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}.")
    client = _client()
    entries = client.executions.logs(
        _resolve(client, exec_id), checkpoint=checkpoint, source=source, limit=limit
    )
    if not entries:
        return "No log entries found."
    lines = []
    for entry in entries:
        parts = [p for p in (entry.timestamp, (entry.level or "").upper() or None) if p]
        invocation = entry.invocation_id or entry.checkpoint_name
        if invocation:  # the invocation (work, work_2, ...) tells a fan-out's calls apart
            attempt = f", attempt {entry.attempt}" if (entry.attempt or 0) > 1 else ""
            parts.append(f"[{invocation}{attempt}]")
        parts.append(entry.message)
        lines.append(" ".join(parts))
    return "\n".join(lines)


def kitaru_executions_run(
    target: Annotated[
        str,
        Field(
            description="The flow to run: '<path/to/file.py>:<flow_name>' or "
            "'<package.module>:<flow_name>' (relative paths and modules resolve against the "
            "server's working directory).",
            min_length=1,
        ),
    ],
    args: Annotated[
        dict[str, Any] | None,
        Field(description="The flow's inputs as a JSON object of keyword arguments."),
    ] = None,
    stack: Annotated[
        str | None, Field(description="Run on this stack (default: the active stack).")
    ] = None,
) -> dict[str, Any]:
    """Start an execution of a flow and return at once with its id.

    The execution runs in a detached worker; follow it with kitaru_executions_get. When it
    reaches status "waiting", answer its wait with kitaru_executions_input. Returns
    {exec_id, target, execution, warning}.
    """
    from kitaru.targets import coerce_flow_inputs, load_flow_target

    flow = load_flow_target(target)
    inputs = coerce_flow_inputs(flow, dict(args or {}))
    if stack is not None:
        inputs["stack"] = stack  # an execution option of .run(), not a flow input
    handle = flow.run_detached(**inputs)
    execution: dict[str, Any] | None = None
    warning: str | None = None
    try:
        execution = _shapes.full(_client().executions.get(handle.exec_id))
    except Exception as exc:  # submitted; only the read-back failed
        warning = (
            f"Execution {handle.exec_id} was submitted, but its details are not queryable "
            f"yet ({type(exc).__name__}: {exc}). Use kitaru_executions_get later."
        )
    return {"exec_id": handle.exec_id, "target": target, "execution": execution, "warning": warning}


def kitaru_executions_pending_waits(exec_id: ExecId) -> list[dict[str, Any]]:
    """List the execution's pending waits (name, question, JSON schema of the expected value).

    Empty when the execution is not waiting for input.
    """
    client = _client()
    waits = client.executions.pending_waits(_resolve(client, exec_id))
    return [_shapes.pending_wait(w) for w in waits]


def kitaru_executions_input(
    exec_id: ExecId,
    wait: WaitSelector,
    value: Annotated[
        Any,
        Field(
            description="The answer, as a JSON value matching the wait's schema (e.g. 5, true, "
            '"text", {"approved": true}). Pass the value itself, not a string containing JSON.'
        ),
    ],
) -> dict[str, Any]:
    """Answer a pending wait of an execution; the execution then continues on its own.

    The value is checked against the wait's JSON schema and converted as pydantic does
    ("5" for an integer is 5, "yes" for a boolean is true): a value that still does not fit
    is an error and the wait stays pending. Returns the execution in full.
    """
    client = _client()
    full_id = _resolve(client, exec_id)
    selector = wait.strip()
    try:
        execution = client.executions.input(full_id, wait=selector, value=value)
    except KitaruWaitValidationError as exc:
        for pending in client.executions.pending_waits(full_id):
            if selector in (pending.name, pending.wait_id):
                raise explain(pending.name, pending.schema, value, exc) from exc
        raise
    return _shapes.full(execution)


def kitaru_executions_abort_wait(exec_id: ExecId, wait: WaitSelector) -> dict[str, Any]:
    """Abort a pending wait instead of answering it; the execution ends as cancelled."""
    client = _client()
    return _shapes.full(client.executions.abort_wait(_resolve(client, exec_id), wait=wait))


def kitaru_executions_retry(exec_id: ExecId) -> dict[str, Any]:
    """Retry a failed execution: same id, re-run from the top reusing completed checkpoints.

    Only failed executions can be retried.
    """
    client = _client()
    return _shapes.full(client.executions.retry(_resolve(client, exec_id)))


def kitaru_executions_resume(exec_id: ExecId) -> dict[str, Any]:
    """Resume a waiting execution whose waits are all answered.

    A manual fallback: answering a wait with kitaru_executions_input already continues the
    execution. Idempotent; an execution with unanswered waits is an error.
    """
    client = _client()
    return _shapes.full(client.executions.resume(_resolve(client, exec_id)))


def kitaru_executions_replay(
    exec_id: ExecId,
    from_: Annotated[
        str,
        Field(
            description="Checkpoint to replay from: an invocation id (e.g. 'summarize_2'), "
            "a call id, or a checkpoint name that is unique in the execution. Calls before "
            "it reuse their recorded outputs; it and everything after run live.",
            min_length=1,
        ),
    ],
    overrides: Annotated[
        dict[str, Any] | None,
        Field(
            description='Values to use instead of running checkpoints: {"checkpoint.<selector>": '
            "value}."
        ),
    ] = None,
    flow_inputs: Annotated[
        dict[str, Any] | None,
        Field(description="Flow inputs to change for the new execution (keyword arguments)."),
    ] = None,
) -> dict[str, Any]:
    """Replay an execution as a new execution that reuses its checkpoints before from_.

    Returns {"available": true, "operation": "replay", "execution": <the new execution>};
    the new execution's original_exec_id is the source. Waits are asked again.
    """
    client = _client()
    execution = client.executions.replay(
        _resolve(client, exec_id), from_=from_, overrides=overrides, **dict(flow_inputs or {})
    )
    return {"available": True, "operation": "replay", "execution": _shapes.full(execution)}


def kitaru_executions_cancel(exec_id: ExecId) -> dict[str, Any]:
    """Cancel an unfinished execution (at once if idle, else at its next checkpoint or wait).

    Returns the execution as it is now: status "cancelled" when it was cancelled at once;
    still "running" (or "waiting") when the cancel was only requested from its runner, in
    which case poll kitaru_executions_get until it reads "cancelled".
    """
    client = _client()
    return _shapes.full(client.executions.cancel(_resolve(client, exec_id)))
