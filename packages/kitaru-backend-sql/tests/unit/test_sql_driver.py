"""The checkpoint commit's statements run on the DB-API cursor (``_driver``) write exactly the
rows SQLAlchemy Core writes for the same values."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kitaru.errors import KitaruUsageError
from kitaru_backend_sql import SqlBackend
from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._driver import DriverStatement, UnstorableValueError
from kitaru_testing import make_artifact, make_attempt, make_call, running
from kitaru_testing._records import at, make_failure
from sqlalchemy.dialects import postgresql, sqlite


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SqlBackend, SqlBackend]]:
    """Two journals with the same running execution: one written through Core, one through
    the driver statements."""
    backends = (
        SqlBackend(f"sqlite:///{tmp_path / 'core.db'}"),
        SqlBackend(f"sqlite:///{tmp_path / 'driver.db'}"),
    )
    yield backends
    for backend in backends:
        backend.close()


def _rows(backend: SqlBackend, table: str) -> list[tuple[Any, ...]]:
    """The table's rows as SQLite stores them (text, integers, blobs), without the ``id``."""
    path = backend.engine.url.database
    with sqlite3.connect(str(path)) as connection:
        cursor = connection.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [d[0] for d in cursor.description]
        return [tuple(v for n, v in zip(names, row, strict=True) if n != "id") for row in cursor]


def test_driver_rows_equal_core_rows(pair: tuple[SqlBackend, SqlBackend]) -> None:
    core, driver = pair
    record = running(core, exec_id="ex-same")
    running(driver, exec_id="ex-same")
    exec_id, epoch = record.exec_id, record.epoch
    call = make_call(
        exec_id,
        cache_key="k",
        cached_from="ex-old/fetch",
        overridden=True,
        failure=make_failure(),
        metadata={"n": [1, 2.5, None], "s": "ünï"},
    )
    attempts = [make_attempt(exec_id), make_attempt(exec_id, None, failure=make_failure())]
    artifacts = [make_artifact(exec_id), make_artifact(exec_id, tags=(), kind=None)]

    sql = core._sql
    with core.engine.begin() as connection:
        connection.execute(sql.upsert_call, codec.call_values(exec_id, call))
        connection.execute(
            sql.insert_attempts, [codec.attempt_values(exec_id, a) for a in attempts]
        )
        connection.execute(sql.insert_artifacts, [codec.artifact_values(a) for a in artifacts])
    driver.save_call(exec_id, epoch, call, attempts=attempts, artifacts=artifacts)

    for table in ("calls", "attempts", "artifacts"):
        assert _rows(driver, table) == _rows(core, table), table
    assert driver.get_calls(exec_id) == core.get_calls(exec_id) == [call]


def test_constants_in_the_statement_are_bound_once() -> None:
    t = sa.table("t", sa.column("a", sa.String), sa.column("b", sa.Integer))
    statement = sa.select(t.c.a).where(t.c.a == sa.bindparam("x"), t.c.b == 7)
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        prebuilt = DriverStatement(statement, dialect, ("x",))
        params = prebuilt.bind({"x": "v"})
        if isinstance(params, tuple):
            assert params == ("v", 7) and prebuilt.sql.count("?") == 2
        else:
            assert sorted(params.values(), key=str) == [7, "v"]


def test_unstorable_values_are_refused_before_the_transaction(
    pair: tuple[SqlBackend, SqlBackend],
) -> None:
    _, backend = pair
    record = running(backend)
    with pytest.raises(UnstorableValueError):
        backend._sql.raw_upsert_call.bind(
            codec.call_values(record.exec_id, make_call(record.exec_id, metadata={"x": object()}))
        )
    with pytest.raises(KitaruUsageError, match="cannot store this value"):
        backend.save_call(
            record.exec_id, record.epoch, make_call(record.exec_id, metadata={"x": object()})
        )
    with pytest.raises(KitaruUsageError, match="timezone-aware"):
        naive = make_attempt(record.exec_id, started_at=at(1).replace(tzinfo=None))
        backend.save_attempt(record.exec_id, record.epoch, naive)
    assert backend.get_calls(record.exec_id) == []
    assert backend.get_attempts(record.exec_id) == []
