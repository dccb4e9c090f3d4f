"""The serialized shapes of executions (SPEC §5, shared with MCP) and their text rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru.client import Execution, PendingWait

MAX_CHECKPOINT_ROWS = 4
_CACHED_NOTE = "outputs reused without running: their prints and logs are in those executions"


def to_jsonable(value: Any) -> Any:
    """Core's JSON conversion of its public models (``None`` fields dropped).

    Imported on first use: ``kitaru --help`` must not pay for importing Kitaru core.
    """
    from kitaru.client import to_jsonable as convert

    return convert(value)


def summary(execution: Execution) -> dict[str, Any]:
    """Execution summary (SPEC §5): the summary fields, ``None`` omitted, plus the counts.

    The plain fields are converted here directly rather than through :func:`to_jsonable`:
    ``kitaru executions list -o json`` builds 10,000 of these, and the generic conversion
    was the CLI's largest cost there. The result is the same.
    """
    e = execution
    status = e.status
    out: dict[str, Any] = {
        "exec_id": e.exec_id,
        "flow_id": e.flow_id,
        "flow_name": e.flow_name,
        "status": getattr(status, "value", status),
    }
    value: Any = e.started_at
    if value is not None:
        out["started_at"] = value if isinstance(value, str) else value.isoformat()
    value = e.ended_at
    if value is not None:
        out["ended_at"] = value if isinstance(value, str) else value.isoformat()
    if e.stack_name is not None:
        out["stack_name"] = e.stack_name
    if e.status_reason is not None:
        out["status_reason"] = e.status_reason
    if e.pending_wait is not None:
        out["pending_wait"] = to_jsonable(e.pending_wait)
    if e.failure is not None:
        out["failure"] = to_jsonable(e.failure)
    value = e.metadata
    if value is not None:
        out["metadata"] = to_jsonable(value) if value else {}
    value = e.checkpoint_count
    out["checkpoint_count"] = value if value is not None else len(e.checkpoints)
    value = e.artifact_count
    out["artifact_count"] = value if value is not None else len(e.artifacts)
    return out


def full(execution: Execution, *, pending: Sequence[PendingWait] = ()) -> dict[str, Any]:
    """Full execution: the summary plus spec, replay source, checkpoints, artifacts, waits
    (each with its ``schema`` and ``metadata``; a resolved one with its stored ``value``,
    ``null`` included) and, once the flow returned, its ``result`` as ``run --wait -o json``
    gives it (JSON data; what JSON cannot hold written as text by the JSON writer), or
    ``result_error`` when it cannot be loaded. (``pending`` is for the text rows.)"""
    out = summary(execution)
    for key, value in to_jsonable(execution).items():
        out.setdefault(key, value)
    for wait, shown in zip(execution.waits, out.get("waits", ()), strict=False):
        if wait.status == "resolved":
            shown["value"] = to_jsonable(wait.value)
    out.update(_result_fields(execution))
    return out


def _pending_waits(execution: Execution, pending: Sequence[PendingWait]) -> list[PendingWait]:
    if pending:
        return list(pending)
    return [execution.pending_wait] if execution.pending_wait is not None else []


def _flow_output(execution: Execution) -> Any:
    return next((a for a in execution.artifacts if a.save_type == "flow_output"), None)


def _result_fields(execution: Execution) -> dict[str, Any]:
    output = _flow_output(execution)
    if output is None:
        return {}
    try:
        value = output.load()
    except Exception as exc:  # e.g. a pickled type not importable here
        return {"result_error": f"{type(exc).__name__}: {exc}"}
    return {"result": to_jsonable(value)}  # as `run --wait -o json` gives it


def summaries(executions: Sequence[Execution]) -> list[dict[str, Any]]:
    """Summaries of listed executions (the client fills their counts in one query)."""
    return [summary(e) for e in executions]


def when(value: datetime | str | None) -> str:
    """A timestamp for people: local time, to the second."""
    if value is None:
        return "-"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def status_text(execution: Execution) -> str:
    return str(getattr(execution.status, "value", execution.status))


def rows(execution: Execution, *, pending: Sequence[PendingWait] = ()) -> list[tuple[str, str]]:
    """The ``executions get`` rows (every wait of ``pending``, else the first pending wait)."""
    out = [
        ("Execution ID", execution.exec_id),
        ("Flow", execution.flow_name),
        ("Status", status_text(execution)),
        ("Started", when(execution.started_at)),
        ("Ended", when(execution.ended_at)),
        ("Stack", execution.stack_name),
    ]
    if execution.original_exec_id:
        out.append(("Replay of", execution.original_exec_id))
    for wait in _pending_waits(execution, pending):
        out.extend(wait_rows(wait, prefix="Wait "))
    for done in execution.waits:
        if done.status == "resolved":
            out.append(("Resolved wait", f"{done.name} = {_json_text(done.value)}"))
        elif done.status == "aborted":
            out.append(("Aborted wait", done.name))
    if execution.failure is not None:
        out.append(("Failure", execution.failure.message))
        out.extend(failure_rows(execution))
    elif execution.status_reason:
        out.append(("Reason", execution.status_reason))
    if execution.cancel_requested:
        out.append(
            ("Cancel", "requested: it stops at its next checkpoint boundary, agent step or wait")
        )
    active = [c for c in execution.checkpoints if c.status.value == "running"]
    if active:
        since = [f"{c.invocation_id} (since {when(c.started_at)})" for c in active]
        out.append(("Running", ", ".join(since)))
    out.append(("Checkpoints", checkpoint_line(execution)))
    cached = [c for c in execution.checkpoints if c.cached_from]
    if cached:
        # A cache hit returns an earlier execution's output without running the body, so
        # its prints and logs are in that execution, not this one.
        reused = ", ".join(f"{c.invocation_id} from {c.cached_from}" for c in cached)
        out.append(("Cached", f"{reused} ({_CACHED_NOTE})"))
    result = result_line(execution)
    if result is not None:
        out.append(("Result", result))
    return out


def wait_rows(wait: PendingWait, *, prefix: str, width: int | None = 200) -> list[tuple[str, str]]:
    """What a pending wait asks: its name, question, schema, the tool call that asks (an
    agent's hitl tool: its name and arguments) and all its metadata. Two waits of one tool
    share name and question: the arguments tell which call is being approved."""
    shown = [("Pending wait", wait.name)]
    if wait.question:
        shown.append((f"{prefix}question", wait.question))
    if wait.schema is not None:
        shown.append((f"{prefix}schema", _json_text(wait.schema, width)))
    metadata = dict(wait.metadata)
    tool = metadata.get("tool_name")
    if isinstance(tool, str) and tool:
        # tool_args: PydanticAI's hitl tools; tool_input: Claude's approvals
        arguments = _json_text(metadata.get("tool_args", metadata.get("tool_input")), width)
        shown.append((f"{prefix}tool call", f"{tool} with arguments {arguments}"))
    if metadata:
        shown.append((f"{prefix}metadata", _json_text(metadata, width)))
    return shown


def failure_rows(execution: Execution) -> list[tuple[str, str]]:
    """Where a failed execution failed (the innermost frame of the user's code in the
    recorded traceback) and where the whole traceback is; none without a traceback."""
    from kitaru_cli._frames import user_frame

    trace = execution.failure.traceback if execution.failure is not None else None
    if not trace:
        return []
    rows = []
    frame = user_frame(trace)
    if frame is not None:
        rows.append(("Failed at", str(frame)))
    hint = f"kitaru executions get {execution.exec_id} -o json (failure.traceback)"
    rows.append(("Traceback", hint))
    return rows


def result_line(execution: Execution, width: int = 200) -> str | None:
    """A one-line preview of a completed execution's return value (None if it has none)."""
    output = _flow_output(execution)
    if output is None:
        return None
    try:
        value = output.load()
    except Exception as exc:  # e.g. a pickled type not importable here
        return f"<not loadable here: {type(exc).__name__}: {exc}>"
    text = " ".join(result_text(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def answer_command(exec_id: str, wait: str, *, only: bool = True) -> str:
    """The command that answers the pending wait ``wait`` (``only``: the execution's only
    pending one, which ``executions input`` then picks by itself)."""
    choose = "" if only else f" --wait {wait}"
    return f"kitaru executions input {exec_id}{choose} --value JSON"


def result_text(value: Any) -> str:
    """A flow's return value as ``run --wait`` and ``executions get`` print it: JSON, as
    ``-o json`` gives it (what JSON cannot hold written as text by the JSON writer)."""
    try:
        return json.dumps(to_jsonable(value), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _json_text(value: Any, width: int | None = 200) -> str:
    """A stored (JSON) value as JSON text, on one line, shortened to ``width`` (if given)."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def checkpoint_line(execution: Execution) -> str:
    calls = execution.checkpoints
    if not calls:
        return "none"
    shown = [
        f"{c.invocation_id} ({c.status.value}{', cached' if c.cached_from else ''}"
        f"{', overridden' if c.overridden else ''})"
        for c in calls[:MAX_CHECKPOINT_ROWS]
    ]
    if len(calls) > MAX_CHECKPOINT_ROWS:
        shown.append(f"... (+{len(calls) - MAX_CHECKPOINT_ROWS} more)")
    return ", ".join(shown)
