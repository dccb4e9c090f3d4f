"""Record factories and state helpers shared by the conformance tests.

Every factory fills in valid defaults and takes keyword overrides, so a test names only the
fields it is about.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    Backend,
    CallRecord,
    CallState,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    LogRecord,
    Payload,
    SecretRecord,
    SourceRef,
    WaitRecord,
    WaitState,
)
from kitaru.errors import FailureOrigin

__all__ = [
    "BINARY",
    "LEASE_SECONDS",
    "Snapshot",
    "at",
    "make_artifact",
    "make_attempt",
    "make_call",
    "make_execution",
    "make_failure",
    "make_log",
    "make_secret",
    "make_wait",
    "new_id",
    "populate",
    "put_in_state",
    "running",
    "snapshot",
    "wait_state",
]

#: A fixed, microsecond-precise instant; tests derive every explicit timestamp from it.
BASE_TIME = datetime(2031, 4, 5, 6, 7, 8, 123456, tzinfo=UTC)
LEASE_SECONDS = 30.0
#: Every byte value, plus a NUL run and invalid UTF-8: inline payloads must survive exactly.
BINARY = bytes(range(256)) + b"\x00\x00\xff\xfe\x80" + "snow ☃".encode()


def at(seconds: float) -> datetime:
    """``BASE_TIME`` plus ``seconds``."""
    return BASE_TIME + timedelta(seconds=seconds)


def new_id(prefix: str = "ex") -> str:
    """A unique id with a readable prefix."""
    return f"{prefix}-{uuid.uuid4().hex}"


def make_failure(**overrides: Any) -> FailureRecord:
    """A failure with every field set."""
    fields: dict[str, Any] = {
        "message": "boom: ünïcode",
        "exception_type": "builtins.RuntimeError",
        "traceback": 'Traceback (most recent call last):\n  File "x.py", line 1\nRuntimeError',
        "origin": FailureOrigin.USER_CODE,
    }
    fields.update(overrides)
    return FailureRecord(**fields)


def make_execution(**overrides: Any) -> ExecutionRecord:
    """A pending execution with JSON spec and metadata."""
    fields: dict[str, Any] = {
        "exec_id": new_id(),
        "flow_name": "research_flow",
        "source": SourceRef(
            module="__main__", qualname="research_flow", file="/srv/app/flow.py", sys_path="/srv"
        ),
        "spec": {"retries": 2, "tags": ["a", "b"], "nested": {"x": 1.5, "none": None}},
        "metadata": {"owner": "team-a"},
        "created_at": at(0),
    }
    fields.update(overrides)
    return ExecutionRecord(**fields)


def make_call(exec_id: str, invocation_id: str = "fetch", **overrides: Any) -> CallRecord:
    """A completed checkpoint call with an output artifact."""
    fields: dict[str, Any] = {
        "exec_id": exec_id,
        "invocation_id": invocation_id,
        "seq": 0,
        "name": invocation_id.split("_")[0],
        "call_id": new_id("call"),
        "checkpoint_type": "llm_call",
        "state": CallState.COMPLETED,
        "started_at": at(10),
        "ended_at": at(11),
        "output_artifact_id": new_id("art"),
        "metadata": {"tokens": {"in": 10, "out": 20}},
        "parent_invocation_ids": ("plan", "search_2"),
    }
    fields.update(overrides)
    return CallRecord(**fields)


def make_attempt(
    exec_id: str, invocation_id: str | None = "fetch", **overrides: Any
) -> AttemptRecord:
    """A completed attempt of a call (``invocation_id=None``: a flow round)."""
    fields: dict[str, Any] = {
        "exec_id": exec_id,
        "attempt_id": new_id("att"),
        "invocation_id": invocation_id,
        "number": 1,
        "state": CallState.COMPLETED,
        "started_at": at(10),
        "ended_at": at(11),
    }
    fields.update(overrides)
    return AttemptRecord(**fields)


def make_wait(exec_id: str, name: str = "approve", **overrides: Any) -> WaitRecord:
    """A pending wait with a JSON schema."""
    fields: dict[str, Any] = {
        "exec_id": exec_id,
        "wait_id": new_id("wait"),
        "name": name,
        "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        "question": "Ship it?",
        "metadata": {"channel": "slack"},
        "created_at": at(20),
    }
    fields.update(overrides)
    return WaitRecord(**fields)


def make_artifact(exec_id: str, **overrides: Any) -> ArtifactRecord:
    """An artifact with an inline binary payload."""
    fields: dict[str, Any] = {
        "artifact_id": new_id("art"),
        "exec_id": exec_id,
        "name": "report",
        "payload": Payload(
            serializer="bytes",
            type_ref="builtins.bytes",
            inline=BINARY,
            size=len(BINARY),
            sha256="0" * 64,
        ),
        "save_type": "manual",
        "invocation_id": "fetch",
        "kind": "document",
        "tags": ("draft", "v1"),
        "metadata": {"source": {"url": "https://example.com"}},
        "created_at": at(30),
    }
    fields.update(overrides)
    return ArtifactRecord(**fields)


def make_log(exec_id: str, message: str = "hello", **overrides: Any) -> LogRecord:
    """A log line from inside a checkpoint."""
    fields: dict[str, Any] = {
        "exec_id": exec_id,
        "message": message,
        "timestamp": at(40),
        "level": "INFO",
        "source": "step",
        "invocation_id": "fetch",
        "stream": "stdout",
        "module": "app.flow",
        "filename": "flow.py",
        "lineno": 12,
    }
    fields.update(overrides)
    return LogRecord(**fields)


def make_secret(name: str = "openai", **overrides: Any) -> SecretRecord:
    """A secret with two values."""
    fields: dict[str, Any] = {
        "secret_id": new_id("sec"),
        "name": name,
        "values": {"OPENAI_API_KEY": "sk-ünï-123", "OPENAI_ORG": "org-1"},
        "created_at": at(50),
        "updated_at": at(50),
    }
    fields.update(overrides)
    return SecretRecord(**fields)


def running(backend: Backend, **overrides: Any) -> ExecutionRecord:
    """Create an execution and take its lease; returns the running record (epoch 1)."""
    record = backend.create_execution(make_execution(**overrides))
    return backend.acquire_lease(
        record.exec_id, owner="runner-1", host="host-a", pid=4242, lease_seconds=LEASE_SECONDS
    )


def put_in_state(backend: Backend, state: ExecutionState) -> ExecutionRecord:
    """A new execution in ``state``, reached through the contract's own transitions.

    ``waiting`` executions have one pending wait named ``approve``.
    """
    if state is ExecutionState.PENDING:
        return backend.create_execution(make_execution())
    record = running(backend)
    if state is ExecutionState.RUNNING:
        return record
    if state is ExecutionState.WAITING:
        backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        assert backend.suspend(record.exec_id, record.epoch)
        return backend.get_execution(record.exec_id)
    return backend.finish(record.exec_id, record.epoch, state=state)


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Everything the contract can read about one execution (plus the execution list)."""

    execution: ExecutionRecord
    calls: list[CallRecord]
    attempts: list[AttemptRecord]
    waits: list[WaitRecord]
    artifacts: list[ArtifactRecord]
    logs: list[LogRecord]
    all_executions: list[ExecutionRecord]


def snapshot(backend: Backend, exec_id: str) -> Snapshot:
    """Read the full state of ``exec_id`` through the contract."""
    return Snapshot(
        execution=backend.get_execution(exec_id),
        calls=backend.get_calls(exec_id),
        attempts=backend.get_attempts(exec_id),
        waits=backend.get_waits(exec_id),
        artifacts=backend.list_artifacts(exec_id),
        logs=backend.get_logs(exec_id),
        all_executions=backend.list_executions(),
    )


def populate(backend: Backend, record: ExecutionRecord) -> None:
    """Give a running execution a call, attempts, an artifact, a pending wait, metadata and
    logs, so "nothing changed" checks compare real state."""
    exec_id, epoch = record.exec_id, record.epoch
    call = make_call(exec_id, "plan", seq=0)
    backend.save_call(
        exec_id,
        epoch,
        call,
        attempts=[make_attempt(exec_id, "plan")],
        artifacts=[make_artifact(exec_id, artifact_id=call.output_artifact_id, name="plan")],
    )
    backend.create_wait(exec_id, epoch, make_wait(exec_id, "approve"))
    backend.merge_metadata(exec_id, epoch, {"progress": {"plan": "done"}})
    backend.append_logs([make_log(exec_id, "planned")])


def wait_state(backend: Backend, exec_id: str, name: str) -> WaitState:
    """The state of the wait called ``name``."""
    return next(w.state for w in backend.get_waits(exec_id) if w.name == name)
