"""Executions and their segments: create, read, list; lease, heartbeat, finish, suspend,
mark_lost, restart, request_cancel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from kitaru.backend import (
    ExecutionNotFoundError,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    LeaseConflictError,
    LeaseRecord,
)
from kitaru.errors import KitaruStateError

from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._journal import NO_LEASE, SqlJournal, first, raise_fenced, utcnow
from kitaru_backend_sql._schema import executions
from kitaru_backend_sql._types import UTCDateTime

__all__ = ["ExecutionOps"]

E = executions
_RUNNING = ExecutionState.RUNNING.value


class ExecutionOps(SqlJournal):
    """The execution half of the contract."""

    def create_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        """Insert a new execution (epoch 0, no lease); refuse an existing id."""
        values = {**codec.execution_values(record), "epoch": 0, **NO_LEASE, "updated_at": utcnow()}
        statement = (
            self._insert(E)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[E.c.exec_id])
            .returning(*E.c)
        )
        with self._write() as connection:
            row = first(connection, statement)
        if row is None:
            raise KitaruStateError(
                f"Execution '{record.exec_id}' already exists.", exec_id=record.exec_id
            )
        return codec.execution_from_row(row)

    def get_execution(self, exec_id: str) -> ExecutionRecord:
        """Return the execution, or raise :class:`ExecutionNotFoundError`."""
        with self._read() as connection:
            row = first(connection, sa.select(E).where(E.c.exec_id == exec_id))
        if row is None:
            raise ExecutionNotFoundError(exec_id)
        return codec.execution_from_row(row)

    def list_executions(
        self,
        *,
        flow_name: str | None = None,
        states: Sequence[ExecutionState] | None = None,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        """Executions newest first (by ``created_at``, then ``exec_id``), optionally filtered."""
        query = sa.select(E).order_by(E.c.created_at.desc(), self._binary(E.c.exec_id).desc())
        if flow_name is not None:
            query = query.where(E.c.flow_name == flow_name)
        if states is not None:
            query = query.where(E.c.state.in_([ExecutionState(s).value for s in states]))
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [codec.execution_from_row(row) for row in rows]

    def find_execution_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Ids starting with ``prefix`` (case-sensitive, no wildcards), sorted, at most
        ``limit``."""
        query = (
            sa.select(E.c.exec_id)
            .where(sa.func.substr(E.c.exec_id, 1, len(prefix)) == prefix)
            .order_by(self._binary(E.c.exec_id))
            .limit(limit)
        )
        with self._read() as connection:
            return list(connection.execute(query).scalars())

    # -- leases and segments -------------------------------------------------------------

    def acquire_lease(
        self, exec_id: str, *, owner: str, host: str, pid: int, lease_seconds: float
    ) -> ExecutionRecord:
        """Take a ``pending`` execution for one segment: one ``UPDATE ... WHERE state =
        'pending'``, so of several racing runners exactly one matches the row."""
        now = utcnow()
        lease = LeaseRecord(
            owner=owner,
            host=host,
            pid=pid,
            heartbeat_at=now,
            expires_at=now + timedelta(seconds=lease_seconds),
        )
        statement = (
            sa.update(E)
            .where(E.c.exec_id == exec_id, E.c.state == ExecutionState.PENDING.value)
            .values(
                state=_RUNNING,
                epoch=E.c.epoch + 1,
                round=E.c.round + 1,
                started_at=sa.func.coalesce(E.c.started_at, sa.literal(now, UTCDateTime())),
                updated_at=now,
                **codec.lease_values(lease),
            )
            .returning(*E.c)
        )
        with self._write() as connection:
            row = first(connection, statement)
            if row is None:
                state = self._state_of(connection, exec_id)
                raise LeaseConflictError(
                    f"Execution '{exec_id}' cannot be leased: it is {state.value}.",
                    exec_id=exec_id,
                    status=state,
                )
        return codec.execution_from_row(row)

    def heartbeat(self, exec_id: str, epoch: int, *, lease_seconds: float) -> bool:
        """Extend the lease; return whether cancellation was requested. Fenced."""
        now = utcnow()
        expires_at = now + timedelta(seconds=lease_seconds)
        with self._write() as connection:
            return self._fence(
                connection,
                exec_id,
                epoch,
                self._sql.heartbeat,
                fence_now=now,
                lease_expires_at=expires_at,
            )

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
        """End the segment in a finished state. Fenced (see :meth:`Backend.finish`)."""
        if not state.is_finished:
            raise ValueError(f"finish() needs a finished state, got {state.value}")
        now = utcnow()
        statement = (
            sa.update(E)
            .where(E.c.exec_id == exec_id, E.c.epoch == epoch, E.c.state == _RUNNING)
            .values(
                state=state.value,
                status_reason=status_reason,
                failure=codec.failure_values(failure),
                result_artifact_id=result_artifact_id,
                ended_at=now,
                cancel_requested=False,
                updated_at=now,
                **NO_LEASE,
            )
            .returning(*E.c)
        )
        with self._write() as connection:
            row = first(connection, statement)
            if row is None:
                raise_fenced(connection, exec_id, epoch)
            if state is ExecutionState.CANCELLED:
                self._abort_pending_waits(connection, exec_id, now)
            self._end_running(
                connection, exec_id, now, state=state, failure=failure, status_reason=status_reason
            )
        return codec.execution_from_row(row)

    def suspend(self, exec_id: str, epoch: int) -> bool:
        """End the segment as ``waiting`` if a wait is pending (checked under the execution's
        row lock, which :meth:`resolve_wait` takes too). Fenced."""
        with self._write() as connection:
            self._fence(connection, exec_id, epoch)
            if not self._has_pending_wait(connection, exec_id):
                return False
            self._set(connection, exec_id, state=ExecutionState.WAITING.value, **NO_LEASE)
            return True

    def mark_lost(self, exec_id: str, epoch: int, *, failure: FailureRecord) -> bool:
        """Fail a ``running`` execution at exactly ``epoch`` whose runner is gone (CAS)."""
        now = utcnow()
        statement = (
            sa.update(E)
            .where(E.c.exec_id == exec_id, E.c.epoch == epoch, E.c.state == _RUNNING)
            .values(
                state=ExecutionState.FAILED.value,
                failure=codec.failure_values(failure),
                status_reason=failure.message,
                ended_at=now,
                updated_at=now,
                **NO_LEASE,
            )
            .returning(E.c.exec_id)
        )
        with self._write() as connection:
            if connection.execute(statement).first() is not None:
                self._end_running(
                    connection, exec_id, now, state=ExecutionState.FAILED, failure=failure
                )
                return True
            self._require(connection, exec_id)
            return False

    def restart(self, exec_id: str, *, from_states: Sequence[ExecutionState]) -> ExecutionRecord:
        """Move the execution back to ``pending`` if its state is in ``from_states``."""
        allowed = [ExecutionState(s) for s in from_states]
        statement = (
            sa.update(E)
            .where(E.c.exec_id == exec_id, E.c.state.in_([s.value for s in allowed]))
            .values(
                state=ExecutionState.PENDING.value,
                failure=None,
                status_reason=None,
                ended_at=None,
                cancel_requested=False,
                updated_at=utcnow(),
                **NO_LEASE,
            )
            .returning(*E.c)
        )
        with self._write() as connection:
            row = first(connection, statement)
            if row is None:
                state = self._state_of(connection, exec_id)
                raise KitaruStateError(
                    f"Execution '{exec_id}' is {state.value}; expected one of: "
                    + ", ".join(s.value for s in allowed)
                    + ".",
                    exec_id=exec_id,
                    status=state,
                )
        return codec.execution_from_row(row)

    def request_cancel(self, exec_id: str) -> ExecutionRecord:
        """Cancel now (pending/waiting, aborting pending waits) or ask the runner to stop
        (running); refuse finished executions."""
        with self._write() as connection:
            record = self._lock_execution(connection, exec_id)
            if record.state.is_finished:
                raise KitaruStateError(
                    f"Execution '{exec_id}' is already {record.state.value}.",
                    exec_id=exec_id,
                    status=record.state,
                )
            if record.state is ExecutionState.RUNNING:
                return self._set(connection, exec_id, cancel_requested=True)
            now = utcnow()
            self._abort_pending_waits(connection, exec_id, now)
            self._end_running(
                connection,
                exec_id,
                now,
                state=ExecutionState.CANCELLED,
                status_reason="Cancelled by request.",
            )
            return self._set(
                connection,
                exec_id,
                state=ExecutionState.CANCELLED.value,
                ended_at=now,
                status_reason="Cancelled by request.",
                **NO_LEASE,
            )
