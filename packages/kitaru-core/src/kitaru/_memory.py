"""``MemoryBackend``: the reference implementation of the journal contract, in one process."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from kitaru._clock import utcnow
from kitaru._merge import merge_metadata
from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    Backend,
    CallRecord,
    CallState,
    DocumentRecord,
    ExecutionNotFoundError,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    FencingError,
    LeaseConflictError,
    LeaseRecord,
    LogRecord,
    NotFoundError,
    SecretRecord,
    WaitNotPendingError,
    WaitRecord,
    WaitResolution,
    WaitState,
    ended_failure,
)
from kitaru.errors import KitaruStateError

__all__ = ["MemoryBackend"]


class MemoryBackend(Backend):
    """Keeps the journal in dictionaries guarded by one lock. Declares no capabilities:
    it is invisible to other processes, so continuations run in this process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._executions: dict[str, ExecutionRecord] = {}
        self._calls: dict[str, dict[str, CallRecord]] = {}
        self._attempts: dict[str, dict[str, AttemptRecord]] = {}
        self._waits: dict[str, dict[str, WaitRecord]] = {}
        self._artifacts: dict[str, ArtifactRecord] = {}
        self._logs: dict[str, list[LogRecord]] = {}
        self._secrets: dict[str, SecretRecord] = {}
        self._documents: dict[tuple[str, str], DocumentRecord] = {}

    # -- helpers --------------------------------------------------------------------------

    def _get(self, exec_id: str) -> ExecutionRecord:
        try:
            return self._executions[exec_id]
        except KeyError:
            raise ExecutionNotFoundError(exec_id) from None

    def _fenced(self, exec_id: str, epoch: int) -> ExecutionRecord:
        record = self._get(exec_id)
        if record.epoch != epoch or record.state is not ExecutionState.RUNNING:
            raise FencingError(
                f"Stale runner for execution '{exec_id}': epoch {epoch} is not the current "
                f"epoch {record.epoch} (state {record.state.value}).",
                exec_id=exec_id,
            )
        return record

    # -- executions -----------------------------------------------------------------------

    def create_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        with self._lock:
            if record.exec_id in self._executions:
                raise KitaruStateError(
                    f"Execution '{record.exec_id}' already exists.", exec_id=record.exec_id
                )
            stored = copy.deepcopy(replace(record, epoch=0, lease=None))
            self._executions[record.exec_id] = stored
            self._calls[record.exec_id] = {}
            self._attempts[record.exec_id] = {}
            self._waits[record.exec_id] = {}
            self._logs[record.exec_id] = []
            return copy.deepcopy(stored)

    def get_execution(self, exec_id: str) -> ExecutionRecord:
        with self._lock:
            return copy.deepcopy(self._get(exec_id))

    def list_executions(
        self,
        *,
        flow_name: str | None = None,
        states: Sequence[ExecutionState] | None = None,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        with self._lock:
            rows = [
                r
                for r in self._executions.values()
                if (flow_name is None or r.flow_name == flow_name)
                and (states is None or r.state in states)
            ]
        rows.sort(key=lambda r: (r.created_at, r.exec_id), reverse=True)
        return copy.deepcopy(rows if limit is None else rows[:limit])

    def find_execution_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        with self._lock:
            return sorted(i for i in self._executions if i.startswith(prefix))[:limit]

    # -- leases ---------------------------------------------------------------------------

    def acquire_lease(
        self, exec_id: str, *, owner: str, host: str, pid: int, lease_seconds: float
    ) -> ExecutionRecord:
        with self._lock:
            record = self._get(exec_id)
            if record.state is not ExecutionState.PENDING:
                raise LeaseConflictError(
                    f"Execution '{exec_id}' cannot be leased: it is {record.state.value}.",
                    exec_id=exec_id,
                    status=record.state,
                )
            now = utcnow()
            lease = LeaseRecord(
                owner=owner,
                host=host,
                pid=pid,
                heartbeat_at=now,
                expires_at=now + timedelta(seconds=lease_seconds),
            )
            record = replace(
                record,
                state=ExecutionState.RUNNING,
                epoch=record.epoch + 1,
                lease=lease,
                round=record.round + 1,
                started_at=record.started_at or now,
            )
            self._executions[exec_id] = record
            return copy.deepcopy(record)

    def heartbeat(self, exec_id: str, epoch: int, *, lease_seconds: float) -> bool:
        with self._lock:
            record = self._fenced(exec_id, epoch)
            assert record.lease is not None
            now = utcnow()
            lease = replace(
                record.lease, heartbeat_at=now, expires_at=now + timedelta(seconds=lease_seconds)
            )
            self._executions[exec_id] = replace(record, lease=lease)
            return record.cancel_requested

    def finish(
        self,
        exec_id: str,
        epoch: int,
        *,
        state: ExecutionState,
        status_reason: str | None = None,
        failure: FailureRecord | None = None,
        result_artifact_id: str | None = None,
    ) -> ExecutionRecord:
        if not state.is_finished:
            raise ValueError(f"finish() needs a finished state, got {state.value}")
        with self._lock:
            record = self._fenced(exec_id, epoch)
            record = replace(
                record,
                state=state,
                status_reason=status_reason,
                failure=failure,
                result_artifact_id=result_artifact_id,
                lease=None,
                ended_at=utcnow(),
                cancel_requested=False,
            )
            self._executions[exec_id] = record
            if state is ExecutionState.CANCELLED:
                self._abort_pending(exec_id)
            self._end_running(exec_id, failure=failure, status_reason=status_reason, state=state)
            return copy.deepcopy(record)

    def suspend(self, exec_id: str, epoch: int) -> bool:
        with self._lock:
            record = self._fenced(exec_id, epoch)
            if not any(w.state is WaitState.PENDING for w in self._waits[exec_id].values()):
                return False
            self._executions[exec_id] = replace(record, state=ExecutionState.WAITING, lease=None)
            return True

    def mark_lost(self, exec_id: str, epoch: int, *, failure: FailureRecord) -> bool:
        with self._lock:
            record = self._get(exec_id)
            if record.state is not ExecutionState.RUNNING or record.epoch != epoch:
                return False
            self._executions[exec_id] = replace(
                record,
                state=ExecutionState.FAILED,
                failure=failure,
                status_reason=failure.message,
                lease=None,
                ended_at=utcnow(),
            )
            self._end_running(
                exec_id, failure=failure, status_reason=None, state=ExecutionState.FAILED
            )
            return True

    def restart(self, exec_id: str, *, from_states: Sequence[ExecutionState]) -> ExecutionRecord:
        with self._lock:
            record = self._get(exec_id)
            if record.state not in from_states:
                raise KitaruStateError(
                    f"Execution '{exec_id}' is {record.state.value}; expected one of: "
                    + ", ".join(s.value for s in from_states)
                    + ".",
                    exec_id=exec_id,
                    status=record.state,
                )
            record = replace(
                record,
                state=ExecutionState.PENDING,
                failure=None,
                status_reason=None,
                ended_at=None,
                cancel_requested=False,
                lease=None,
            )
            self._executions[exec_id] = record
            return copy.deepcopy(record)

    def request_cancel(self, exec_id: str) -> ExecutionRecord:
        with self._lock:
            record = self._get(exec_id)
            if record.state.is_finished:
                raise KitaruStateError(
                    f"Execution '{exec_id}' is already {record.state.value}.",
                    exec_id=exec_id,
                    status=record.state,
                )
            if record.state is ExecutionState.RUNNING:
                record = replace(record, cancel_requested=True)
            else:
                record = replace(
                    record,
                    state=ExecutionState.CANCELLED,
                    ended_at=utcnow(),
                    status_reason="Cancelled by request.",
                    lease=None,
                )
                self._abort_pending(exec_id)
                self._end_running(
                    exec_id,
                    failure=None,
                    status_reason=record.status_reason,
                    state=ExecutionState.CANCELLED,
                )
            self._executions[exec_id] = record
            return copy.deepcopy(record)

    def _abort_pending(self, exec_id: str) -> None:
        now = utcnow()
        for wait_id, wait in self._waits[exec_id].items():
            if wait.state is WaitState.PENDING:
                self._waits[exec_id][wait_id] = replace(
                    wait, state=WaitState.ABORTED, resolved_at=now
                )

    # -- calls ----------------------------------------------------------------------------

    def save_call(
        self,
        exec_id: str,
        epoch: int,
        call: CallRecord,
        *,
        attempts: Sequence[AttemptRecord] = (),
        artifacts: Sequence[ArtifactRecord] = (),
        sync: bool = True,
    ) -> bool:
        with self._lock:
            record = self._fenced(exec_id, epoch)
            existing = self._calls[exec_id].get(call.invocation_id)
            if existing is not None and existing.state is CallState.COMPLETED:
                return record.cancel_requested
            self._calls[exec_id][call.invocation_id] = copy.deepcopy(call)
            for attempt in attempts:
                self._put_attempt(exec_id, attempt)
            for artifact in artifacts:
                self._artifacts.setdefault(artifact.artifact_id, copy.deepcopy(artifact))
            return record.cancel_requested

    def save_attempt(self, exec_id: str, epoch: int, attempt: AttemptRecord) -> None:
        with self._lock:
            self._fenced(exec_id, epoch)
            self._put_attempt(exec_id, copy.deepcopy(attempt))

    def _put_attempt(self, exec_id: str, attempt: AttemptRecord) -> None:
        """Add an attempt; one with the same id is kept unless it is still running."""
        existing = self._attempts[exec_id].get(attempt.attempt_id)
        if existing is None or existing.state is CallState.RUNNING:
            self._attempts[exec_id][attempt.attempt_id] = attempt

    def _end_running(
        self,
        exec_id: str,
        *,
        failure: FailureRecord | None,
        status_reason: str | None,
        state: ExecutionState,
    ) -> None:
        """The execution finished: its calls and attempts still running become failed."""
        failure = ended_failure(failure=failure, status_reason=status_reason, state=state)
        now = utcnow()
        for key, call in self._calls[exec_id].items():
            if call.state is CallState.RUNNING:
                self._calls[exec_id][key] = replace(
                    call, state=CallState.FAILED, failure=failure, ended_at=now
                )
        for key, attempt in self._attempts[exec_id].items():
            if attempt.state is CallState.RUNNING:
                self._attempts[exec_id][key] = replace(
                    attempt, state=CallState.FAILED, failure=failure, ended_at=now
                )

    def get_calls(self, exec_id: str) -> list[CallRecord]:
        with self._lock:
            self._get(exec_id)
            return copy.deepcopy(sorted(self._calls[exec_id].values(), key=lambda c: c.seq))

    def get_attempts(self, exec_id: str) -> list[AttemptRecord]:
        with self._lock:
            self._get(exec_id)
            return sorted(self._attempts[exec_id].values(), key=lambda a: a.started_at)

    def find_cached_call(self, cache_key: str) -> CallRecord | None:
        with self._lock:
            hits = [
                c
                for calls in self._calls.values()
                for c in calls.values()
                if c.cache_key == cache_key
                and c.state is CallState.COMPLETED
                and c.output_artifact_id is not None
            ]
        return copy.deepcopy(max(hits, key=lambda c: c.ended_at or c.started_at, default=None))

    # -- waits ----------------------------------------------------------------------------

    def create_wait(self, exec_id: str, epoch: int, wait: WaitRecord) -> WaitRecord:
        with self._lock:
            self._fenced(exec_id, epoch)
            for existing in self._waits[exec_id].values():
                if existing.name == wait.name:
                    return copy.deepcopy(existing)
            if wait.wait_id in self._waits[exec_id]:
                raise KitaruStateError(
                    f"Wait id '{wait.wait_id}' is already used by wait "
                    f"'{self._waits[exec_id][wait.wait_id].name}'.",
                    exec_id=exec_id,
                )
            self._waits[exec_id][wait.wait_id] = copy.deepcopy(wait)
            return copy.deepcopy(wait)

    def get_waits(self, exec_id: str) -> list[WaitRecord]:
        with self._lock:
            self._get(exec_id)
            return copy.deepcopy(sorted(self._waits[exec_id].values(), key=lambda w: w.created_at))

    def resolve_wait(
        self, exec_id: str, wait_id: str, *, state: WaitState, value: Any = None
    ) -> WaitResolution:
        if state is WaitState.PENDING:
            raise ValueError("resolve_wait() needs state resolved or aborted")
        with self._lock:
            record = self._get(exec_id)
            wait = self._waits[exec_id].get(wait_id)
            if wait is None:
                raise NotFoundError(
                    f"Execution '{exec_id}' has no wait '{wait_id}'.", exec_id=exec_id
                )
            if wait.state is not WaitState.PENDING:
                raise WaitNotPendingError(
                    f"Wait '{wait.name}' of execution '{exec_id}' is already {wait.state.value}.",
                    exec_id=exec_id,
                    status=wait.state,
                )
            now = utcnow()
            wait = replace(
                wait,
                state=state,
                value=copy.deepcopy(value) if state is WaitState.RESOLVED else None,
                resolved_at=now,
            )
            self._waits[exec_id][wait_id] = wait
            should_continue = False
            if state is WaitState.RESOLVED:
                still_pending = any(
                    w.state is WaitState.PENDING for w in self._waits[exec_id].values()
                )
                if record.state is ExecutionState.WAITING and not still_pending:
                    record = replace(record, state=ExecutionState.PENDING)
                    should_continue = True
            elif record.state in (ExecutionState.WAITING, ExecutionState.PENDING):
                record = replace(
                    record,
                    state=ExecutionState.CANCELLED,
                    ended_at=now,
                    status_reason=f"Wait '{wait.name}' was aborted.",
                )
                self._abort_pending(exec_id)
                self._end_running(
                    exec_id,
                    failure=None,
                    status_reason=record.status_reason,
                    state=ExecutionState.CANCELLED,
                )
            elif record.state is ExecutionState.RUNNING:
                record = replace(record, cancel_requested=True)
            self._executions[exec_id] = record
            return copy.deepcopy(
                WaitResolution(wait=wait, execution=record, should_continue=should_continue)
            )

    # -- documents --------------------------------------------------------------------------

    def put_documents(
        self,
        documents: Sequence[DocumentRecord],
        *,
        exec_id: str | None = None,
        epoch: int | None = None,
    ) -> None:
        with self._lock:
            if exec_id is not None and epoch is not None:
                self._fenced(exec_id, epoch)
            for document in documents:
                self._documents[(document.namespace, document.key)] = copy.deepcopy(document)

    def get_document(self, namespace: str, key: str) -> DocumentRecord | None:
        with self._lock:
            return copy.deepcopy(self._documents.get((namespace, key)))

    def list_documents(
        self,
        namespace: str,
        *,
        prefix: str = "",
        start_after: str | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> list[DocumentRecord]:
        with self._lock:
            rows = sorted(
                (
                    d
                    for (ns, key), d in self._documents.items()
                    if ns == namespace and key.startswith(prefix)
                ),
                key=lambda d: d.key,
                reverse=descending,
            )
        if start_after is not None:
            rows = [d for d in rows if (d.key < start_after if descending else d.key > start_after)]
        return copy.deepcopy(rows if limit is None else rows[:limit])

    def delete_documents(self, namespace: str, *, prefix: str = "") -> int:
        with self._lock:
            doomed = [k for k in self._documents if k[0] == namespace and k[1].startswith(prefix)]
            for k in doomed:
                del self._documents[k]
            return len(doomed)

    # -- secrets ----------------------------------------------------------------------------

    def _secret(self, name_or_id: str) -> SecretRecord:
        for secret in self._secrets.values():
            if secret.secret_id == name_or_id:
                return secret
        if name_or_id in self._secrets:
            return self._secrets[name_or_id]
        raise NotFoundError(f"Secret '{name_or_id}' was not found.")

    def put_secret(self, secret: SecretRecord) -> SecretRecord:
        with self._lock:
            old = self._secrets.get(secret.name)
            if old is not None:
                secret = replace(secret, secret_id=old.secret_id, created_at=old.created_at)
            self._secrets[secret.name] = copy.deepcopy(secret)
            return copy.deepcopy(secret)

    def get_secret(self, name_or_id: str) -> SecretRecord:
        with self._lock:
            return copy.deepcopy(self._secret(name_or_id))

    def list_secrets(self) -> list[SecretRecord]:
        with self._lock:
            return copy.deepcopy(sorted(self._secrets.values(), key=lambda s: s.name))

    def delete_secret(self, name_or_id: str) -> SecretRecord:
        with self._lock:
            secret = self._secret(name_or_id)
            del self._secrets[secret.name]
            return secret

    # -- artifacts, metadata, logs ----------------------------------------------------------

    def put_artifact(self, exec_id: str, epoch: int, artifact: ArtifactRecord) -> None:
        with self._lock:
            self._fenced(exec_id, epoch)
            self._artifacts.setdefault(artifact.artifact_id, copy.deepcopy(artifact))

    def put_artifacts(
        self,
        exec_id: str,
        epoch: int,
        artifacts: Sequence[ArtifactRecord],
        *,
        sync: bool = True,
    ) -> None:
        with self._lock:
            self._fenced(exec_id, epoch)
            for artifact in artifacts:
                self._artifacts.setdefault(artifact.artifact_id, copy.deepcopy(artifact))

    def get_artifact(self, artifact_id: str) -> ArtifactRecord:
        with self._lock:
            try:
                return copy.deepcopy(self._artifacts[artifact_id])
            except KeyError:
                raise NotFoundError(f"Artifact '{artifact_id}' was not found.") from None

    def list_artifacts(self, exec_id: str) -> list[ArtifactRecord]:
        with self._lock:
            self._get(exec_id)
            rows = [a for a in self._artifacts.values() if a.exec_id == exec_id]
        return copy.deepcopy(sorted(rows, key=lambda a: a.created_at))

    def merge_metadata(self, exec_id: str, epoch: int, values: Mapping[str, Any]) -> None:
        with self._lock:
            record = self._fenced(exec_id, epoch)
            self._executions[exec_id] = replace(
                record, metadata=merge_metadata(record.metadata, copy.deepcopy(values))
            )

    def append_logs(self, records: Sequence[LogRecord]) -> None:
        with self._lock:
            for line in records:  # validate all first: the append is all or nothing
                self._get(line.exec_id)
            for line in records:
                self._logs[line.exec_id].append(line)

    def get_logs(
        self,
        exec_id: str,
        *,
        invocation_id: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[LogRecord]:
        with self._lock:
            self._get(exec_id)
            rows = [
                r
                for r in self._logs[exec_id]
                if (invocation_id is None or r.invocation_id == invocation_id)
                and (source is None or r.source == source)
            ]
        return copy.deepcopy(rows if limit is None else rows[:limit])
