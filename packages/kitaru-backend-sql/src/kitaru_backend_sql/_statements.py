"""Prebuilt statements for the hot paths (checkpoint commits, heartbeats, log appends).

Built once per backend with bound parameters, so each call only binds values: SQLAlchemy
compiles them once and every later execution hits its compiled cache. (Statements built
with ``.values(...)`` per call, or multi-row ``VALUES`` lists, are compiled every time.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from kitaru.backend import CallState, ExecutionState

from kitaru_backend_sql._schema import artifacts, attempts, calls, executions, logs

__all__ = ["HotStatements"]

E = executions
_CALL_KEY = ("exec_id", "invocation_id")


class HotStatements:
    """Dialect-specific prebuilt statements; ``insert`` is the dialect's ``insert()``
    (``sqlalchemy.dialects.sqlite.insert`` or ``...postgresql.insert``)."""

    def __init__(self, insert: Callable[[sa.Table], Any]) -> None:
        fenced = sa.and_(
            E.c.exec_id == sa.bindparam("fence_exec_id"),
            E.c.epoch == sa.bindparam("fence_epoch"),
            E.c.state == ExecutionState.RUNNING.value,
        )
        #: Lock the execution row if the epoch is current; returns ``cancel_requested``.
        self.fence = (
            sa.update(E)
            .where(fenced)
            .values(updated_at=sa.bindparam("fence_now"))
            .returning(E.c.cancel_requested)
        )
        #: ``fence`` that also extends the lease.
        self.heartbeat = (
            sa.update(E)
            .where(fenced)
            .values(
                updated_at=sa.bindparam("fence_now"),
                lease_heartbeat_at=sa.bindparam("fence_now"),
                lease_expires_at=sa.bindparam("lease_expires_at"),
            )
            .returning(E.c.cancel_requested)
        )
        call_insert = insert(calls)
        #: Insert a call or update it unless the stored one is completed; returns a row only
        #: when something was written.
        self.upsert_call = call_insert.on_conflict_do_update(
            index_elements=[calls.c.exec_id, calls.c.invocation_id],
            set_={
                column.name: call_insert.excluded[column.name]
                for column in calls.c
                if column.name not in _CALL_KEY
            },
            where=calls.c.state != CallState.COMPLETED.value,
        ).returning(calls.c.seq)
        #: Add attempts (executemany); existing ``(exec_id, attempt_id)`` rows are kept.
        self.insert_attempts = insert(attempts).on_conflict_do_nothing(
            index_elements=[attempts.c.exec_id, attempts.c.attempt_id]
        )
        #: Add artifacts (executemany); existing ``artifact_id`` rows are kept.
        self.insert_artifacts = insert(artifacts).on_conflict_do_nothing(
            index_elements=[artifacts.c.artifact_id]
        )
        #: Append log lines (executemany, in order).
        self.insert_logs = sa.insert(logs)
