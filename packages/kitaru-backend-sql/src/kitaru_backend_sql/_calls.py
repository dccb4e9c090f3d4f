"""Checkpoint calls and attempts: the checkpoint commit and the cache lookup."""

from __future__ import annotations

from collections.abc import Sequence

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
    ) -> bool:
        """Upsert a call with its new attempts and artifacts in one transaction. Fenced.

        At most four prebuilt statements: the fence, the call upsert (which the database
        skips when a completed call exists, and then nothing else is written), and one
        executemany each for attempts and artifacts (existing keys are kept).
        """
        with self._write() as connection:
            cancel_requested = self._fence(connection, exec_id, epoch)
            written = connection.execute(self._sql.upsert_call, codec.call_values(exec_id, call))
            if written.first() is None:
                return cancel_requested
            if attempts:
                connection.execute(
                    self._sql.insert_attempts,
                    [codec.attempt_values(exec_id, attempt) for attempt in attempts],
                )
            if artifacts:
                connection.execute(
                    self._sql.insert_artifacts,
                    [codec.artifact_values(artifact) for artifact in artifacts],
                )
            return cancel_requested

    def save_attempt(self, exec_id: str, epoch: int, attempt: AttemptRecord) -> None:
        """Record one attempt on its own (idempotent by ``attempt_id``). Fenced."""
        with self._write() as connection:
            self._fence(connection, exec_id, epoch)
            connection.execute(self._sql.insert_attempts, [codec.attempt_values(exec_id, attempt)])

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
