"""Checkpoint calls and attempts: the checkpoint commit and the cache lookup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from kitaru.backend import ArtifactRecord, AttemptRecord, CallRecord, CallState

from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._journal import SqlJournal, first
from kitaru_backend_sql._schema import attempts, calls

__all__ = ["CallOps"]

C = calls
A = attempts


class CallOps(SqlJournal):
    """save_call, save_attempt, get_calls, get_attempts, find_cached_call."""

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
        """Upsert a call with its new attempts and artifacts in one transaction. Fenced.

        The checkpoint commit, on the DB-API cursor (see ``_driver``): values are converted
        before the transaction starts, then at most four prebuilt statements run: the read
        fence, the call upsert (which the database skips when a completed call exists, and
        then nothing else is written), and one insert each for attempts and artifacts
        (existing keys are kept, but a ``running`` attempt is replaced: it ended).
        ``sync=False`` does not wait for the disk (see ``_driver_write``).
        """
        sql = self._sql
        [call_params] = self._bind(sql.raw_upsert_call, [codec.call_values(exec_id, call)])
        attempt_params = self._bind(
            sql.raw_insert_attempts, [codec.attempt_values(exec_id, a) for a in attempts]
        )
        artifact_params = self._bind(
            sql.raw_insert_artifacts, [codec.artifact_values(a) for a in artifacts]
        )
        with self._driver_write(sync=sync) as cursor:
            cancel_requested = self._driver_fence(cursor, exec_id, epoch)
            cursor.execute(sql.raw_upsert_call.sql, call_params)
            if cursor.rowcount == 0:  # a completed call is stored: keep it, add nothing
                return cancel_requested
            _run_each(cursor, sql.raw_insert_attempts.sql, attempt_params)
            _run_each(cursor, sql.raw_insert_artifacts.sql, artifact_params)
        return cancel_requested

    def save_attempt(self, exec_id: str, epoch: int, attempt: AttemptRecord) -> None:
        """Record one attempt on its own (idempotent by ``attempt_id``; a stored ``running``
        attempt is replaced). Fenced."""
        statement = self._sql.raw_insert_attempts
        [params] = self._bind(statement, [codec.attempt_values(exec_id, attempt)])
        with self._driver_write() as cursor:
            self._driver_fence(cursor, exec_id, epoch)
            cursor.execute(statement.sql, params)

    def get_calls(self, exec_id: str) -> list[CallRecord]:
        """The execution's calls ordered by ``seq``."""
        query = sa.select(C).where(C.c.exec_id == exec_id).order_by(C.c.seq)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
            if not rows:
                self._require(connection, exec_id)
        return [codec.call_from_row(row) for row in rows]

    def get_attempts(self, exec_id: str) -> list[AttemptRecord]:
        """All attempts of the execution, oldest first (by ``started_at``, then insertion)."""
        query = sa.select(A).where(A.c.exec_id == exec_id).order_by(A.c.started_at, A.c.id)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
            if not rows:
                self._require(connection, exec_id)
        return [codec.attempt_from_row(row) for row in rows]

    def find_cached_call(self, cache_key: str) -> CallRecord | None:
        """The most recent completed call with this ``cache_key`` that has an output."""
        query = (
            sa.select(C)
            .where(
                C.c.cache_key == cache_key,
                C.c.state == CallState.COMPLETED.value,
                C.c.output_artifact_id.is_not(None),
            )
            .order_by(sa.func.coalesce(C.c.ended_at, C.c.started_at).desc())
            .limit(1)
        )
        with self._read() as connection:
            row = first(connection, query)
        return None if row is None else codec.call_from_row(row)


def _run_each(cursor: Any, sql: str, params: list[Any]) -> None:
    """Run ``sql`` for each parameter set (one ``execute`` for the usual single row)."""
    if len(params) == 1:
        cursor.execute(sql, params[0])
    elif params:
        cursor.executemany(sql, params)
