"""Prebuilt statements for the hot paths (checkpoint commits, heartbeats, log appends).

Built once per backend with bound parameters, so each call only binds values: SQLAlchemy
compiles them once and every later execution hits its compiled cache. (Statements built
with ``.values(...)`` per call, or multi-row ``VALUES`` lists, are compiled every time.)
The checkpoint commit's statements are also compiled to :class:`~._driver.DriverStatement`
and run on the DB-API cursor, without SQLAlchemy's per-execution work.
"""

from __future__ import annotations

import sqlalchemy as sa
from kitaru.backend import CallState, ExecutionState
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from kitaru_backend_sql._driver import DriverStatement
from kitaru_backend_sql._schema import artifacts, attempts, calls, documents, executions, logs

__all__ = ["HotStatements"]

E = executions
_CALL_KEY = ("exec_id", "invocation_id")
_FENCE_KEYS = ("fence_exec_id", "fence_epoch")


def _insert_keys(table: sa.Table) -> tuple[str, ...]:
    """The columns the codec writes: all but the surrogate ``id``."""
    return tuple(column.name for column in table.c if column.name != "id")


class HotStatements:
    """Dialect-specific prebuilt statements for ``dialect`` (SQLite or PostgreSQL)."""

    def __init__(self, dialect: Dialect) -> None:
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        fenced = sa.and_(
            E.c.exec_id == sa.bindparam("fence_exec_id"),
            E.c.epoch == sa.bindparam("fence_epoch"),
            E.c.state == ExecutionState.RUNNING.value,
        )
        #: The fence of writes that only add rows: read ``cancel_requested`` if the epoch is
        #: current. On SQLite the transaction's ``BEGIN IMMEDIATE`` already excludes every
        #: other writer until commit; on PostgreSQL ``FOR SHARE`` locks the row against
        #: finish / mark_lost / restart / acquire_lease (which UPDATE it) until commit.
        self.fence_read = sa.select(E.c.cancel_requested).where(fenced).with_for_update(read=True)
        #: The fence of writes that then change the execution row: lock it exclusively
        #: (PostgreSQL) and return ``cancel_requested``.
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
        #: Insert a call or update it unless the stored one is completed; the row count is 0
        #: when nothing was written (SQLite's changes(), PostgreSQL's INSERT tag alike).
        self.upsert_call = call_insert.on_conflict_do_update(
            index_elements=[calls.c.exec_id, calls.c.invocation_id],
            set_={
                column.name: call_insert.excluded[column.name]
                for column in calls.c
                if column.name not in _CALL_KEY
            },
            where=calls.c.state != CallState.COMPLETED.value,
        )
        #: Add attempts (executemany); existing ``(exec_id, attempt_id)`` rows are kept,
        #: except ``running`` ones, which the new row replaces (the attempt ended).
        attempt_insert = insert(attempts).inline()
        self.insert_attempts = attempt_insert.on_conflict_do_update(
            index_elements=[attempts.c.exec_id, attempts.c.attempt_id],
            set_={
                column.name: attempt_insert.excluded[column.name]
                for column in attempts.c
                if column.name not in ("id", "exec_id", "attempt_id")
            },
            where=attempts.c.state == CallState.RUNNING.value,
        )
        #: Add artifacts (executemany); existing ``artifact_id`` rows are kept.
        self.insert_artifacts = (
            insert(artifacts)
            .inline()
            .on_conflict_do_nothing(index_elements=[artifacts.c.artifact_id])
        )
        #: Append log lines (executemany, in order).
        self.insert_logs = sa.insert(logs)

        # The same statements for the DB-API cursor (see _driver).
        self.raw_state = DriverStatement(
            sa.select(E.c.epoch, E.c.state).where(E.c.exec_id == sa.bindparam("exec_id")),
            dialect,
            ("exec_id",),
        )
        self.raw_fence = DriverStatement(self.fence_read, dialect, _FENCE_KEYS)
        self.raw_upsert_call = DriverStatement(self.upsert_call, dialect, _insert_keys(calls))
        self.raw_insert_attempts = DriverStatement(
            self.insert_attempts, dialect, _insert_keys(attempts)
        )
        self.raw_insert_artifacts = DriverStatement(
            self.insert_artifacts, dialect, _insert_keys(artifacts)
        )
        #: A finished execution's calls and attempts still running become failed.
        self.raw_end_running = tuple(
            DriverStatement(
                sa.update(table)
                .where(
                    table.c.exec_id == sa.bindparam("end_exec_id"),
                    table.c.state == CallState.RUNNING.value,
                )
                .values(
                    state=CallState.FAILED.value,
                    ended_at=sa.bindparam("end_ended_at"),
                    failure=sa.bindparam("end_failure"),
                ),
                dialect,
                ("end_exec_id", "end_ended_at", "end_failure"),
            )
            for table in (calls, attempts)
        )
        document_insert = insert(documents)
        self.raw_upsert_documents = DriverStatement(
            document_insert.on_conflict_do_update(
                index_elements=[documents.c.namespace, documents.c.key],
                set_={
                    "value": document_insert.excluded.value,
                    "exec_id": document_insert.excluded.exec_id,
                    "created_at": document_insert.excluded.created_at,
                },
            ),
            dialect,
            _insert_keys(documents),
        )
