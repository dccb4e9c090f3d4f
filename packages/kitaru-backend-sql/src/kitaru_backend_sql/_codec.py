"""Records to row values and rows back to records.

Every conversion is explicit so a row read back compares equal (``==``) to the record that
was stored: enums come back as enums, tuples as tuples, bytes as ``bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    CallRecord,
    CallState,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    LeaseRecord,
    LogRecord,
    Payload,
    SecretRecord,
    SourceRef,
    WaitRecord,
    WaitState,
)
from kitaru.errors import FailureOrigin

__all__ = [
    "artifact_from_row",
    "artifact_values",
    "attempt_from_row",
    "attempt_values",
    "call_from_row",
    "call_values",
    "execution_from_row",
    "execution_values",
    "failure_values",
    "lease_values",
    "log_from_row",
    "log_values",
    "secret_from_row",
    "secret_values",
    "wait_from_row",
    "wait_values",
]

Row = Mapping[Any, Any]


# -- parts ----------------------------------------------------------------------------------


def failure_values(failure: FailureRecord | None) -> dict[str, Any] | None:
    """A failure as a JSON object."""
    if failure is None:
        return None
    return {
        "message": failure.message,
        "exception_type": failure.exception_type,
        "traceback": failure.traceback,
        "origin": failure.origin.value,
    }


def _failure(data: Mapping[str, Any] | None) -> FailureRecord | None:
    if data is None:
        return None
    return FailureRecord(
        message=data["message"],
        exception_type=data.get("exception_type"),
        traceback=data.get("traceback"),
        origin=FailureOrigin(data.get("origin", FailureOrigin.UNKNOWN.value)),
    )


def _payload_values(prefix: str, payload: Payload | None) -> dict[str, Any]:
    if payload is None:
        return dict.fromkeys(
            f"{prefix}_{n}" for n in ("serializer", "type_ref", "inline", "uri", "size", "sha256")
        )
    return {
        f"{prefix}_serializer": payload.serializer,
        f"{prefix}_type_ref": payload.type_ref,
        f"{prefix}_inline": payload.inline,
        f"{prefix}_uri": payload.uri,
        f"{prefix}_size": payload.size,
        f"{prefix}_sha256": payload.sha256,
    }


def _payload(prefix: str, row: Row) -> Payload | None:
    serializer = row[f"{prefix}_serializer"]
    if serializer is None:
        return None
    inline = row[f"{prefix}_inline"]
    return Payload(
        serializer=serializer,
        type_ref=row[f"{prefix}_type_ref"],
        inline=None if inline is None else bytes(inline),
        uri=row[f"{prefix}_uri"],
        size=row[f"{prefix}_size"],
        sha256=row[f"{prefix}_sha256"],
    )


def _source_values(source: SourceRef) -> dict[str, Any]:
    return {
        "module": source.module,
        "qualname": source.qualname,
        "file": source.file,
        "sys_path": source.sys_path,
    }


def _source(data: Mapping[str, Any]) -> SourceRef:
    return SourceRef(
        module=data["module"],
        qualname=data["qualname"],
        file=data.get("file"),
        sys_path=data.get("sys_path"),
    )


def lease_values(lease: LeaseRecord | None) -> dict[str, Any]:
    """The lease columns of an execution row (all NULL for no lease)."""
    if lease is None:
        return {
            "lease_owner": None,
            "lease_host": None,
            "lease_pid": None,
            "lease_heartbeat_at": None,
            "lease_expires_at": None,
        }
    return {
        "lease_owner": lease.owner,
        "lease_host": lease.host,
        "lease_pid": lease.pid,
        "lease_heartbeat_at": lease.heartbeat_at,
        "lease_expires_at": lease.expires_at,
    }


def _lease(row: Row) -> LeaseRecord | None:
    if row["lease_owner"] is None:
        return None
    return LeaseRecord(
        owner=row["lease_owner"],
        host=row["lease_host"],
        pid=row["lease_pid"],
        heartbeat_at=row["lease_heartbeat_at"],
        expires_at=row["lease_expires_at"],
    )


def _dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if value is None else dict(value)


# -- executions -----------------------------------------------------------------------------


def execution_values(record: ExecutionRecord) -> dict[str, Any]:
    """Column values for an ``executions`` row (without ``updated_at``)."""
    return {
        "exec_id": record.exec_id,
        "flow_name": record.flow_name,
        "source": _source_values(record.source),
        **_payload_values("inputs", record.inputs),
        "spec": dict(record.spec),
        "stack": record.stack,
        "state": record.state.value,
        "status_reason": record.status_reason,
        "failure": failure_values(record.failure),
        "result_artifact_id": record.result_artifact_id,
        "original_exec_id": record.original_exec_id,
        "replay_plan": None if record.replay_plan is None else dict(record.replay_plan),
        "metadata": dict(record.metadata),
        "created_at": record.created_at,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "epoch": record.epoch,
        **lease_values(record.lease),
        "cancel_requested": record.cancel_requested,
        "round": record.round,
    }


def execution_from_row(row: Row) -> ExecutionRecord:
    """An :class:`ExecutionRecord` from an ``executions`` row."""
    return ExecutionRecord(
        exec_id=row["exec_id"],
        flow_name=row["flow_name"],
        source=_source(row["source"]),
        inputs=_payload("inputs", row),
        spec=_dict(row["spec"]),
        stack=row["stack"],
        state=ExecutionState(row["state"]),
        status_reason=row["status_reason"],
        failure=_failure(row["failure"]),
        result_artifact_id=row["result_artifact_id"],
        original_exec_id=row["original_exec_id"],
        replay_plan=row["replay_plan"],
        metadata=_dict(row["metadata"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        epoch=row["epoch"],
        lease=_lease(row),
        cancel_requested=bool(row["cancel_requested"]),
        round=row["round"],
    )


# -- calls and attempts -----------------------------------------------------------------------


def call_values(exec_id: str, call: CallRecord) -> dict[str, Any]:
    """Column values for a ``calls`` row, stored under ``exec_id``."""
    return {
        "exec_id": exec_id,
        "invocation_id": call.invocation_id,
        "seq": call.seq,
        "name": call.name,
        "call_id": call.call_id,
        "checkpoint_type": call.checkpoint_type,
        "state": call.state.value,
        "started_at": call.started_at,
        "ended_at": call.ended_at,
        "output_artifact_id": call.output_artifact_id,
        "cache_key": call.cache_key,
        "cached_from": call.cached_from,
        "overridden": call.overridden,
        "failure": failure_values(call.failure),
        "metadata": dict(call.metadata),
        "parent_invocation_ids": list(call.parent_invocation_ids),
    }


def call_from_row(row: Row) -> CallRecord:
    """A :class:`CallRecord` from a ``calls`` row."""
    return CallRecord(
        exec_id=row["exec_id"],
        invocation_id=row["invocation_id"],
        seq=row["seq"],
        name=row["name"],
        call_id=row["call_id"],
        checkpoint_type=row["checkpoint_type"],
        state=CallState(row["state"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        output_artifact_id=row["output_artifact_id"],
        cache_key=row["cache_key"],
        cached_from=row["cached_from"],
        overridden=bool(row["overridden"]),
        failure=_failure(row["failure"]),
        metadata=_dict(row["metadata"]),
        parent_invocation_ids=tuple(row["parent_invocation_ids"] or ()),
    )


def attempt_values(exec_id: str, attempt: AttemptRecord) -> dict[str, Any]:
    """Column values for an ``attempts`` row, stored under ``exec_id``."""
    return {
        "exec_id": exec_id,
        "attempt_id": attempt.attempt_id,
        "invocation_id": attempt.invocation_id,
        "number": attempt.number,
        "state": attempt.state.value,
        "started_at": attempt.started_at,
        "ended_at": attempt.ended_at,
        "failure": failure_values(attempt.failure),
    }


def attempt_from_row(row: Row) -> AttemptRecord:
    """An :class:`AttemptRecord` from an ``attempts`` row."""
    return AttemptRecord(
        exec_id=row["exec_id"],
        attempt_id=row["attempt_id"],
        invocation_id=row["invocation_id"],
        number=row["number"],
        state=CallState(row["state"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        failure=_failure(row["failure"]),
    )


# -- waits, artifacts, logs -------------------------------------------------------------------


def wait_values(exec_id: str, wait: WaitRecord) -> dict[str, Any]:
    """Column values for a ``waits`` row, stored under ``exec_id``."""
    return {
        "exec_id": exec_id,
        "wait_id": wait.wait_id,
        "name": wait.name,
        "schema": None if wait.schema is None else dict(wait.schema),
        "question": wait.question,
        "metadata": dict(wait.metadata),
        "state": wait.state.value,
        "value": wait.value,
        "created_at": wait.created_at,
        "resolved_at": wait.resolved_at,
    }


def wait_from_row(row: Row) -> WaitRecord:
    """A :class:`WaitRecord` from a ``waits`` row."""
    return WaitRecord(
        exec_id=row["exec_id"],
        wait_id=row["wait_id"],
        name=row["name"],
        schema=row["schema"],
        question=row["question"],
        metadata=_dict(row["metadata"]),
        state=WaitState(row["state"]),
        value=row["value"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
    )


def artifact_values(artifact: ArtifactRecord) -> dict[str, Any]:
    """Column values for an ``artifacts`` row."""
    return {
        "artifact_id": artifact.artifact_id,
        "exec_id": artifact.exec_id,
        "invocation_id": artifact.invocation_id,
        "name": artifact.name,
        **_payload_values("payload", artifact.payload),
        "save_type": artifact.save_type,
        "kind": artifact.kind,
        "tags": list(artifact.tags),
        "metadata": dict(artifact.metadata),
        "created_at": artifact.created_at,
    }


def artifact_from_row(row: Row) -> ArtifactRecord:
    """An :class:`ArtifactRecord` from an ``artifacts`` row."""
    payload = _payload("payload", row)
    assert payload is not None  # the payload columns are NOT NULL
    return ArtifactRecord(
        artifact_id=row["artifact_id"],
        exec_id=row["exec_id"],
        name=row["name"],
        payload=payload,
        save_type=row["save_type"],
        invocation_id=row["invocation_id"],
        kind=row["kind"],
        tags=tuple(row["tags"] or ()),
        metadata=_dict(row["metadata"]),
        created_at=row["created_at"],
    )


def log_values(record: LogRecord) -> dict[str, Any]:
    """Column values for a ``logs`` row."""
    return {
        "exec_id": record.exec_id,
        "timestamp": record.timestamp,
        "level": record.level,
        "source": record.source,
        "message": record.message,
        "invocation_id": record.invocation_id,
        "stream": record.stream,
        "module": record.module,
        "filename": record.filename,
        "lineno": record.lineno,
    }


def log_from_row(row: Row) -> LogRecord:
    """A :class:`LogRecord` from a ``logs`` row."""
    return LogRecord(
        exec_id=row["exec_id"],
        message=row["message"],
        timestamp=row["timestamp"],
        level=row["level"],
        source=row["source"],
        invocation_id=row["invocation_id"],
        stream=row["stream"],
        module=row["module"],
        filename=row["filename"],
        lineno=row["lineno"],
    )


# -- secrets ----------------------------------------------------------------------------------


def secret_values(secret: SecretRecord) -> dict[str, Any]:
    """Column values for a ``secrets`` row."""
    return {
        "secret_id": secret.secret_id,
        "name": secret.name,
        "values": {str(key): str(value) for key, value in secret.values.items()},
        "created_at": secret.created_at,
        "updated_at": secret.updated_at,
    }


def secret_from_row(row: Row) -> SecretRecord:
    """A :class:`SecretRecord` from a ``secrets`` row."""
    return SecretRecord(
        secret_id=row["secret_id"],
        name=row["name"],
        values=_dict(row["values"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
