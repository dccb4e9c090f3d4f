"""The execution tools: list, inspect, start, answer waits, retry, resume, replay, cancel.

Each tool is a plain function that returns JSON-able data (SPEC §5 shapes) and raises
Kitaru's own exceptions; the server wraps them so failures become MCP tool errors (and serves
the list tools as ``{"items": [...], "count": N}``). Every ``exec_id`` parameter accepts a
full execution id or a unique prefix of at least 6 characters.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from kitaru import KitaruClient
from kitaru.backend import NotFoundError
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
    Field(
        description="Only executions with this status (waiting = paused in wait() until answered)."
    ),
]
FlowFilter = Annotated[
    str | None,
    Field(
        description="Only executions of the flow with this exact name (the flow_name of an "
        "execution: by default the name of the @flow function)."
    ),
]
StackFilter = Annotated[
    str | None, Field(description="Only executions that ran on the stack with this name.")
]
_WAIT = "its name (preferred) or its wait_id, as listed by kitaru_executions_pending_waits."
WaitSelector = Annotated[
    str, Field(description=f"The pending wait to answer: {_WAIT}", min_length=1)
]
AbortedWait = Annotated[str, Field(description=f"The pending wait to abort: {_WAIT}", min_length=1)]


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

    Returns {"items": [...], "count": N}; "items" is empty when nothing matches. Each summary
    has exec_id, flow_name, status, started_at/ended_at, stack_name, the pending wait or
    failure if any, and checkpoint_count/artifact_count. Use kitaru_executions_get for an
    execution's checkpoints and artifacts.
    """
    client = _client()
    if stack is None:
        return _shapes.summaries(client.executions.list(flow=flow, status=status, limit=limit))
    items = [e for e in client.executions.list(flow=flow, status=status) if e.stack_name == stack]
    return _shapes.summaries(items if limit is None else items[:limit])


def kitaru_executions_get(exec_id: ExecId) -> dict[str, Any]:
    """Get one execution in full: status, pending wait, failure, checkpoints, artifacts.

    The summary fields of kitaru_executions_list plus checkpoints (in call order, each with
    its status, attempts, failure and the artifacts it produced), artifacts, waits (answered
    and pending), frozen_execution_spec and, for a replay, original_exec_id. The flow's
    return value is the artifact named "result" (read it with kitaru_artifacts_get).
    """
    client = _client()
    return _shapes.full(client.executions.get(_resolve(client, exec_id)))


def kitaru_executions_latest(
    status: StatusFilter = None,
    flow: FlowFilter = None,
    stack: StackFilter = None,
) -> dict[str, Any]:
    """Get the most recent execution (optionally of one flow, status or stack) in full.

    Same shape as kitaru_executions_get. When no execution matches, the call fails with
    KitaruStateError (kitaru_executions_list answers the same question with an empty list).
    """
    client = _client()
    if stack is None:
        items = client.executions.list(flow=flow, status=status, limit=1)
    else:
        items = [
            e for e in client.executions.list(flow=flow, status=status) if e.stack_name == stack
        ]
    if not items:
        raise _no_executions(client, flow=flow, status=status, stack=stack)
    return _shapes.full(client.executions.get(items[0].exec_id))


def _no_executions(
    client: KitaruClient, *, flow: str | None, status: str | None, stack: str | None
) -> NotFoundError:
    """The error for a ``latest`` that matches nothing, saying what to do next.

    A :class:`kitaru.backend.NotFoundError`: reported as ``KitaruStateError`` and still a
    ``LookupError`` for callers of the plain function.
    """
    filters = [
        f"{k}={v!r}"
        for k, v in (("flow", flow), ("status", status), ("stack", stack))
        if v is not None
    ]
    if not filters:
        return NotFoundError(
            "No executions found: the journal has none yet. Start one with kitaru_executions_run."
        )
    message = f"No executions found for {' and '.join(filters)}."
    if flow is not None:
        recent = client.executions.list(limit=200)
        names = sorted({e.flow_name for e in recent})
        if flow.strip() not in names:
            message += (
                f" No recent execution is of a flow named {flow!r}; flows with executions: "
                + (", ".join(names[:20]) if names else "none")
                + "."
            )
    return NotFoundError(
        message + " Drop or change a filter, or call kitaru_executions_list to see which "
        "executions exist."
    )


def get_execution_logs(
    exec_id: ExecId,
    checkpoint: Annotated[
        str | None,
        Field(
            description="Only the lines of one checkpoint invocation: its invocation id (e.g. "
            "work, work_2 for the second call of work) or call id, or its name when only one "
            "invocation has it. Cannot be combined with source='runner'."
        ),
    ] = None,
    source: Annotated[
        Literal["step", "runner", "all"],
        Field(
            description="'step' (default): lines printed or logged inside checkpoints; "
            "'runner': the flow body outside checkpoints and the engine; 'all': both, merged "
            "by time."
        ),
    ] = "step",
    limit: Annotated[
        int,
        Field(
            description="Return at most this many lines: the oldest ones. A last line says "
            "when more were left out.",
            ge=1,
        ),
    ] = 200,
) -> str:
    """Get an execution's captured output (print(), stderr, logging) as plain text.

    Oldest first, one line per entry: "<timestamp> <LEVEL> [<invocation>] <message>"
    (missing parts are left out; a retried checkpoint's later attempts read "[<invocation>,
    attempt N]"). "No log entries found." when there are none; by default only lines from
    inside checkpoints are shown (see source).
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}.")
    client = _client()
    entries = client.executions.logs(
        _resolve(client, exec_id), checkpoint=checkpoint, source=source, limit=limit + 1
    )
    if not entries:
        return "No log entries found."
    more = len(entries) > limit
    lines = []
    for entry in entries[:limit]:
        parts = [p for p in (entry.timestamp, (entry.level or "").upper() or None) if p]
        invocation = entry.invocation_id or entry.checkpoint_name
        if invocation:  # the invocation (work, work_2, ...) tells a fan-out's calls apart
            attempt = f", attempt {entry.attempt}" if (entry.attempt or 0) > 1 else ""
            parts.append(f"[{invocation}{attempt}]")
        parts.append(entry.message)
        lines.append(" ".join(parts))
    if more:
        lines.append(f"[more lines follow: call again with a limit above {limit} to see them]")
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
        Field(
            description="The flow's inputs as a JSON object of keyword arguments, e.g. "
            '{"amount": 120}. Values are checked against the flow\'s parameter types and '
            'converted as pydantic does ("4" for an int is 4).'
        ),
    ] = None,
    stack: Annotated[
        str | None, Field(description="Run on this stack (default: the active stack).")
    ] = None,
) -> dict[str, Any]:
    """Start an execution of a flow and return at once with its id.

    The execution runs in a detached worker process; follow it with kitaru_executions_get.
    When it reaches status "waiting", answer its wait with kitaru_executions_input. Returns
    {exec_id, target, execution, warning}: execution is the new execution in full (usually
    still "running"), or null with a warning saying why when it could not be read back yet.
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

    Returns {"items": [...], "count": N}, each item with wait_id, name, question, schema and
    entered_waiting_at; "items" is empty when the execution is not waiting for input. Answer
    one with kitaru_executions_input.
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
    is an error and the wait stays pending. Returns the execution in full, usually
    "running" again; poll kitaru_executions_get for what happens next.
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


def kitaru_executions_abort_wait(exec_id: ExecId, wait: AbortedWait) -> dict[str, Any]:
    """Abort a pending wait instead of answering it: the execution ends as cancelled.

    Returns the execution in full; it may still read "waiting" for a moment, then
    "cancelled". To stop an execution that is not waiting, use kitaru_executions_cancel.
    """
    client = _client()
    return _shapes.full(client.executions.abort_wait(_resolve(client, exec_id), wait=wait))


def kitaru_executions_retry(exec_id: ExecId) -> dict[str, Any]:
    """Retry a failed execution: same id, re-run from the top reusing completed checkpoints.

    Only failed executions can be retried. The flow's code is imported again, so fix the
    cause first (the failure is in the execution's "failure"). Returns the execution in
    full; poll kitaru_executions_get for the outcome.
    """
    client = _client()
    return _shapes.full(client.executions.retry(_resolve(client, exec_id)))


def kitaru_executions_resume(exec_id: ExecId) -> dict[str, Any]:
    """Resume a waiting execution whose waits are all answered.

    A manual fallback, rarely needed: answering a wait with kitaru_executions_input already
    continues the execution. Safe to repeat: a running or completed execution is returned
    unchanged. An execution with unanswered waits, or a failed or cancelled one, is an error.
    Returns the execution in full.
    """
    client = _client()
    return _shapes.full(client.executions.resume(_resolve(client, exec_id)))


def kitaru_executions_replay(
    exec_id: ExecId,
    from_: Annotated[
        str,
        Field(
            description="Checkpoint to replay from: an invocation id (e.g. 'summarize_2'), "
            "a call id, or a checkpoint name that is unique in the execution. Checkpoints "
            "before it reuse their recorded outputs; it and everything after run again.",
            min_length=1,
        ),
    ],
    overrides: Annotated[
        dict[str, Any] | None,
        Field(
            description="Checkpoint outputs to use instead of running those checkpoints, as "
            '{"checkpoint.<selector>": value}; the selector is a checkpoint name, invocation '
            "id or call id as for from_. Replay starts at the earliest overridden checkpoint "
            "if that comes before from_."
        ),
    ] = None,
    flow_inputs: Annotated[
        dict[str, Any] | None,
        Field(
            description="Flow inputs to change for the new execution, as keyword arguments; "
            "inputs not given keep the source execution's values."
        ),
    ] = None,
) -> dict[str, Any]:
    """Replay an execution as a new execution that reuses its checkpoints before from_.

    The source must have finished or be waiting. Returns {"available": true, "operation":
    "replay", "execution": <the new execution in full>}; "available" is always true here
    (the field is kept for clients of the original Kitaru MCP server, where replay could be
    unavailable). The new execution has its own exec_id, its original_exec_id is the
    source, and its waits are asked again.
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
    which case poll kitaru_executions_get until it reads "cancelled". Asking again while
    the cancel is pending changes nothing; a finished execution is an error.
    """
    client = _client()
    return _shapes.full(client.executions.cancel(_resolve(client, exec_id)))
