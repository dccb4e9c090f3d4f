"""Waits: idempotent creation and compare-and-set resolution."""

from __future__ import annotations

from typing import Any, NoReturn

import sqlalchemy as sa
from kitaru.backend import (
    ExecutionState,
    NotFoundError,
    WaitNotPendingError,
    WaitRecord,
    WaitResolution,
    WaitState,
)
from kitaru.errors import KitaruStateError

from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._journal import SqlJournal, first, utcnow
from kitaru_backend_sql._schema import waits

__all__ = ["WaitOps"]

W = waits


class WaitOps(SqlJournal):
    """create_wait, get_waits, resolve_wait."""

    def create_wait(self, exec_id: str, epoch: int, wait: WaitRecord) -> WaitRecord:
        """Create a wait, or return the stored one with the same name. Fenced.

        The insert skips on any key conflict (name or ``wait_id``); then the stored wait of
        that name is returned, or, when only the ``wait_id`` clashed, KitaruStateError is
        raised and the transaction rolled back.
        """
        insert = (
            self._insert(W)
            .values(**codec.wait_values(exec_id, wait))
            .on_conflict_do_nothing()
            .returning(*W.c)
        )
        with self._write() as connection:
            self._fence(connection, exec_id, epoch, self._sql.fence_read)
            row = first(connection, insert)
            if row is None:
                existing = sa.select(W).where(W.c.exec_id == exec_id, W.c.name == wait.name)
                row = first(connection, existing)
                if row is None:
                    raise KitaruStateError(
                        f"Wait id '{wait.wait_id}' of execution '{exec_id}' is already used "
                        f"by another wait than '{wait.name}'.",
                        exec_id=exec_id,
                    )
        return codec.wait_from_row(row)

    def get_waits(self, exec_id: str) -> list[WaitRecord]:
        """The execution's waits, oldest first."""
        query = sa.select(W).where(W.c.exec_id == exec_id).order_by(W.c.created_at, W.c.id)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
            if not rows:
                self._require(connection, exec_id)
        return [codec.wait_from_row(row) for row in rows]

    def resolve_wait(
        self, exec_id: str, wait_id: str, *, state: WaitState, value: Any = None
    ) -> WaitResolution:
        """Resolve or abort a pending wait (see :meth:`Backend.resolve_wait`).

        One transaction: lock the execution row, compare-and-set the wait (``UPDATE ...
        WHERE state = 'pending'``; no row means someone else won), then move the execution.
        """
        if state is WaitState.PENDING:
            raise ValueError("resolve_wait() needs state resolved or aborted")
        now = utcnow()
        cas = (
            sa.update(W)
            .where(W.c.exec_id == exec_id, W.c.wait_id == wait_id, W.c.state == "pending")
            .values(
                state=state.value,
                value=value if state is WaitState.RESOLVED else None,
                resolved_at=now,
            )
            .returning(*W.c)
        )
        with self._write() as connection:
            record = self._lock_execution(connection, exec_id)
            row = first(connection, cas)
            if row is None:
                _raise_not_pending(connection, exec_id, wait_id)
            wait = codec.wait_from_row(row)
            should_continue = False
            if state is WaitState.RESOLVED:
                if record.state is ExecutionState.WAITING and not self._has_pending_wait(
                    connection, exec_id
                ):
                    record = self._set(connection, exec_id, state=ExecutionState.PENDING.value)
                    should_continue = True
            elif record.state in (ExecutionState.WAITING, ExecutionState.PENDING):
                self._abort_pending_waits(connection, exec_id, now)
                reason = f"Wait '{wait.name}' was aborted."
                self._end_running(
                    connection,
                    exec_id,
                    now,
                    state=ExecutionState.CANCELLED,
                    status_reason=reason,
                )
                record = self._set(
                    connection,
                    exec_id,
                    state=ExecutionState.CANCELLED.value,
                    ended_at=now,
                    status_reason=reason,
                )
            elif record.state is ExecutionState.RUNNING:
                record = self._set(connection, exec_id, cancel_requested=True)
        return WaitResolution(wait=wait, execution=record, should_continue=should_continue)


def _raise_not_pending(connection: sa.Connection, exec_id: str, wait_id: str) -> NoReturn:
    row = connection.execute(
        sa.select(W.c.name, W.c.state).where(W.c.exec_id == exec_id, W.c.wait_id == wait_id)
    ).first()
    if row is None:
        raise NotFoundError(f"Execution '{exec_id}' has no wait '{wait_id}'.", exec_id=exec_id)
    raise WaitNotPendingError(
        f"Wait '{row.name}' of execution '{exec_id}' is already {row.state}.",
        exec_id=exec_id,
        status=WaitState(row.state),
    )
