"""PostgreSQL-only behaviour: advisory-locked migrations, refusal of newer journals, types,
and connection errors that never show the password."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from _postgres import admin_engine, create_database, drop_database, postgres_url_or_skip
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from kitaru.errors import KitaruBackendError
from kitaru_backend_sql import SqlBackend
from kitaru_backend_sql._migrate import head_revisions
from kitaru_backend_sql._schema import metadata


@pytest.fixture
def fresh_database() -> Iterator[sa.URL]:
    url = postgres_url_or_skip()
    with admin_engine(url) as engine:
        name = create_database(engine)
        yield url.set(database=name)
        drop_database(engine, name)


def _revisions(url: sa.URL) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return {row[0] for row in rows}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_first_opens_migrate_once(fresh_database: sa.URL) -> None:
    backends = [SqlBackend(fresh_database) for _ in range(6)]
    barrier = threading.Barrier(len(backends))
    errors: list[BaseException] = []

    def open_journal(backend: SqlBackend) -> None:
        barrier.wait()
        try:
            backend.list_executions()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_journal, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for backend in backends:
        backend.close()
    assert errors == []
    assert _revisions(fresh_database) == set(head_revisions())


@pytest.mark.postgres
def test_the_migrations_match_the_tables_the_code_queries(fresh_database: sa.URL) -> None:
    backend = SqlBackend(fresh_database)
    backend.list_executions()
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        json_type = connection.exec_driver_sql(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'executions' AND column_name = 'metadata'"
        ).scalar()
        time_type = connection.exec_driver_sql(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'executions' AND column_name = 'created_at'"
        ).scalar()
    backend.close()
    assert (json_type, time_type) == ("jsonb", "timestamp with time zone")


@pytest.mark.postgres
def test_a_journal_from_a_newer_kitaru_is_refused_and_left_untouched(
    fresh_database: sa.URL,
) -> None:
    backend = SqlBackend(fresh_database)
    backend.list_executions()
    backend.close()
    engine = sa.create_engine(fresh_database, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dfeed9999'")
    newer = SqlBackend(fresh_database)
    with pytest.raises(KitaruBackendError, match=r"newer Kitaru \(schema revision f00dfeed9999"):
        newer.list_executions()
    newer.close()
    assert _revisions(fresh_database) == {"f00dfeed9999"}
    engine.dispose()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_errors_mask_the_password() -> None:
    url = f"postgresql://kitaru:hunter2-secret@127.0.0.1:{_closed_port()}/journal"
    backend = SqlBackend(url)
    with pytest.raises(KitaruBackendError) as info:
        backend.list_executions()
    message = str(info.value)
    assert "hunter2-secret" not in message
    assert "postgresql+psycopg://kitaru:***@127.0.0.1:" in message
    assert "OperationalError" in message
    backend.close()


@pytest.mark.postgres
def test_unsynced_writes_turn_synchronous_commit_off_for_their_transaction_only(
    fresh_database: sa.URL,
) -> None:
    from kitaru_testing import make_artifact, running

    backend = SqlBackend(fresh_database)

    @sa.event.listens_for(backend.engine, "connect")
    def _durable_session(dbapi_connection: Any, _record: object) -> None:
        with dbapi_connection.cursor() as cursor:  # the test server's default is off
            cursor.execute("SET synchronous_commit TO on")
        dbapi_connection.commit()

    try:
        record = running(backend)
        event = make_artifact(record.exec_id, name="event#1")
        backend.put_artifacts(record.exec_id, record.epoch, [event], sync=False)
        assert backend.get_artifact(event.artifact_id) == event
        with backend.engine.connect() as connection:  # the pooled connection is back to on
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        backend.close()
