"""Artifacts, execution metadata and runtime logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from kitaru.backend import (
    ArtifactRecord,
    ExecutionNotFoundError,
    LogRecord,
    NotFoundError,
    merge_metadata,
)

from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._journal import SqlJournal, first, raise_fenced, utcnow
from kitaru_backend_sql._schema import artifacts, calls, executions, logs

__all__ = ["DataOps"]

E = executions
R = artifacts
L = logs


class DataOps(SqlJournal):
    """count_children, put_artifact, get_artifact, list_artifacts, merge_metadata, append_logs,
    get_logs."""

    def count_children(self, exec_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Calls and artifacts per existing execution: one statement per 500 ids, two
        correlated counts per execution row (served by the ``calls`` primary key and
        ``ix_artifacts_exec_id``)."""
        ids = list(dict.fromkeys(exec_ids))
        out: dict[str, tuple[int, int]] = {}
        with self._read() as connection:
            for start in range(0, len(ids), _CHUNK):
                statement = _COUNTS.where(E.c.exec_id.in_(ids[start : start + _CHUNK]))
                for exec_id, n_calls, n_artifacts in connection.execute(statement):
                    out[exec_id] = (int(n_calls), int(n_artifacts))
        return out

    def put_artifact(self, exec_id: str, epoch: int, artifact: ArtifactRecord) -> None:
        """Record an artifact (idempotent by ``artifact_id``). Fenced."""
        statement = self._sql.raw_insert_artifacts
        [params] = self._bind(statement, [codec.artifact_values(artifact)])
        with self._driver_write() as cursor:
            self._driver_fence(cursor, exec_id, epoch)
            cursor.execute(statement.sql, params)

    def put_artifacts(
        self,
        exec_id: str,
        epoch: int,
        artifacts: Sequence[ArtifactRecord],
        *,
        sync: bool = True,
    ) -> None:
        """Record several artifacts in one transaction (idempotent by id). Fenced.
        ``sync=False``: committed without waiting for the disk (see :meth:`_driver_write`)."""
        if not artifacts:
            return
        statement = self._sql.raw_insert_artifacts
        params = self._bind(statement, [codec.artifact_values(a) for a in artifacts])
        with self._driver_write(sync=sync) as cursor:
            self._driver_fence(cursor, exec_id, epoch)
            cursor.executemany(statement.sql, params)

    def get_artifact(self, artifact_id: str) -> ArtifactRecord:
        """Return the artifact, or raise :class:`NotFoundError`."""
        with self._read() as connection:
            row = first(connection, sa.select(R).where(R.c.artifact_id == artifact_id))
        if row is None:
            raise NotFoundError(f"Artifact '{artifact_id}' was not found.")
        return codec.artifact_from_row(row)

    def list_artifacts(self, exec_id: str) -> list[ArtifactRecord]:
        """The execution's artifacts, oldest first."""
        query = sa.select(R).where(R.c.exec_id == exec_id).order_by(R.c.created_at, R.c.id)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
            if not rows:
                self._require(connection, exec_id)
        return [codec.artifact_from_row(row) for row in rows]

    def merge_metadata(self, exec_id: str, epoch: int, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into the execution metadata (dicts recursively). Fenced: the
        prelude's row lock makes the read-modify-write safe."""
        fence = (
            sa.update(E)
            .where(E.c.exec_id == exec_id, E.c.epoch == epoch, E.c.state == "running")
            .values(updated_at=utcnow())
            .returning(E.c.metadata)
        )
        with self._write() as connection:
            row = connection.execute(fence).first()
            if row is None:
                raise_fenced(connection, exec_id, epoch)
            merged = merge_metadata(row[0] or {}, values)
            connection.execute(sa.update(E).where(E.c.exec_id == exec_id).values(metadata=merged))

    def append_logs(self, records: Sequence[LogRecord]) -> None:
        """Append log lines in order, all or nothing (not fenced)."""
        if not records:
            return
        wanted = sorted({r.exec_id for r in records})
        with self._write() as connection:
            found = set(
                connection.execute(sa.select(E.c.exec_id).where(E.c.exec_id.in_(wanted))).scalars()
            )
            missing = [exec_id for exec_id in wanted if exec_id not in found]
            if missing:
                raise ExecutionNotFoundError(missing[0])
            connection.execute(self._sql.insert_logs, [codec.log_values(r) for r in records])

    def get_logs(
        self,
        exec_id: str,
        *,
        invocation_id: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[LogRecord]:
        """Log lines in append order, optionally filtered, the first ``limit``."""
        query = sa.select(L).where(L.c.exec_id == exec_id).order_by(L.c.id)
        if invocation_id is not None:
            query = query.where(L.c.invocation_id == invocation_id)
        if source is not None:
            query = query.where(L.c.source == source)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
            if not rows:
                self._require(connection, exec_id)
        return [codec.log_from_row(row) for row in rows]


#: Ids per ``IN (...)`` list (SQLite allows 32,766 parameters; PostgreSQL 65,535).
_CHUNK = 500

_COUNTS = sa.select(
    E.c.exec_id,
    sa.select(sa.func.count()).where(calls.c.exec_id == E.c.exec_id).scalar_subquery(),
    sa.select(sa.func.count())
    .where(R.c.exec_id == E.c.exec_id, R.c.save_type != "event")
    .scalar_subquery(),
)
