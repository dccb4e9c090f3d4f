"""The serialized shapes of executions (SPEC §5, shared with MCP) and their text rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kitaru_cli._core import to_jsonable

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import Execution

SUMMARY_FIELDS = (
    "exec_id",
    "flow_id",
    "flow_name",
    "status",
    "started_at",
    "ended_at",
    "stack_name",
    "status_reason",
    "pending_wait",
    "failure",
    "metadata",
)
MAX_CHECKPOINT_ROWS = 4


def summary(execution: Execution, *, checkpoint_count: int, artifact_count: int) -> dict[str, Any]:
    """Execution summary: the §5 summary fields (``None`` omitted) plus the two counts."""
    out = {}
    for key in SUMMARY_FIELDS:
        value = getattr(execution, key)
        if value is not None:
            out[key] = to_jsonable(value)
    out["checkpoint_count"] = checkpoint_count
    out["artifact_count"] = artifact_count
    return out


def full(execution: Execution) -> dict[str, Any]:
    """Full execution: the summary plus spec, replay source, checkpoints and artifacts."""
    data = to_jsonable(execution)
    out = summary(
        execution,
        checkpoint_count=len(execution.checkpoints),
        artifact_count=len(execution.artifacts),
    )
    for key, value in data.items():
        out.setdefault(key, value)
    return out


def summaries(client: KitaruClient, executions: Sequence[Execution]) -> list[dict[str, Any]]:
    """Summaries of listed executions, with their checkpoint and artifact counts.

    Uses counts the client already put on the models when it does; otherwise asks the
    journal per execution (one query each for calls and artifacts).
    """
    backend = client.runtime.backend
    out = []
    for execution in executions:
        checkpoints = getattr(execution, "checkpoint_count", None)
        artifacts = getattr(execution, "artifact_count", None)
        if checkpoints is None:
            checkpoints = len(backend.get_calls(execution.exec_id))
        if artifacts is None:
            artifacts = len(backend.list_artifacts(execution.exec_id))
        out.append(summary(execution, checkpoint_count=checkpoints, artifact_count=artifacts))
    return out


def when(value: datetime | str | None) -> str:
    """A timestamp for people: local time, to the second."""
    if value is None:
        return "-"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone()
    return value.strftime("%Y-%m-%d %H:%M:%S")


def status_text(execution: Execution) -> str:
    return str(getattr(execution.status, "value", execution.status))


def rows(execution: Execution) -> list[tuple[str, str]]:
    """The ``executions get`` rows."""
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
    wait = execution.pending_wait
    if wait is not None:
        out.append(("Pending wait", wait.name))
        if wait.question:
            out.append(("Wait question", wait.question))
    if execution.failure is not None:
        out.append(("Failure", execution.failure.message))
    elif execution.status_reason:
        out.append(("Reason", execution.status_reason))
    out.append(("Checkpoints", checkpoint_line(execution)))
    return out


def checkpoint_line(execution: Execution) -> str:
    calls = execution.checkpoints
    if not calls:
        return "none"
    shown = [f"{c.invocation_id} ({c.status.value})" for c in calls[:MAX_CHECKPOINT_ROWS]]
    if len(calls) > MAX_CHECKPOINT_ROWS:
        shown.append(f"... (+{len(calls) - MAX_CHECKPOINT_ROWS} more)")
    return ", ".join(shown)
