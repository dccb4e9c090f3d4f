"""Schema management: Alembic on first use, newer journals refused, concurrent first opens."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from kitaru.errors import KitaruBackendError
from kitaru_backend_sql import SqlBackend
from kitaru_backend_sql._migrate import HEAD_REVISION, head_revisions
from kitaru_backend_sql._schema import metadata

TABLES = {
    "executions",
    "calls",
    "attempts",
    "waits",
    "artifacts",
    "logs",
    "secrets",
    "documents",
    "alembic_version",
}


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _revisions(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def test_a_fresh_journal_is_migrated_to_head_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "kitaru.db"
    backend = SqlBackend(_url(path))
    assert not path.exists()  # construction does no I/O
    assert backend.list_executions() == []
    backend.close()
    assert _revisions(path) == set(head_revisions())
    assert _tables(path) == TABLES


def test_head_revision_constant_is_alembics_head() -> None:
    """``HEAD_REVISION`` lets a current journal open without importing Alembic; it must name
    the newest migration (bump it with every new one)."""
    assert head_revisions() == {HEAD_REVISION}


def test_opening_a_current_journal_does_not_import_alembic(tmp_path: Path) -> None:
    url = _url(tmp_path / "kitaru.db")
    backend = SqlBackend(url)
    backend.list_executions()  # creates and migrates it (imports Alembic in this process)
    backend.close()
    script = f"""
import sys
from kitaru_backend_sql import SqlBackend
backend = SqlBackend({url!r})
assert backend.list_executions() == []
loaded = sorted(m for m in ("alembic", "mako") if m in sys.modules)
assert loaded == [], loaded
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_the_migrations_create_exactly_the_schema_the_code_queries(tmp_path: Path) -> None:
    backend = SqlBackend(_url(tmp_path / "kitaru.db"))
    backend.list_executions()
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    backend.close()


def test_hot_path_indices_exist(tmp_path: Path) -> None:
    backend = SqlBackend(_url(tmp_path / "kitaru.db"))
    backend.list_executions()
    inspector = sa.inspect(backend.engine)
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("executions", "calls", "waits", "artifacts", "logs")
        for index in inspector.get_indexes(table)
    }
    backend.close()
    assert {
        ("executions", ("created_at", "exec_id")),
        ("executions", ("flow_name",)),
        ("calls", ("cache_key",)),
        ("waits", ("exec_id", "created_at")),
        ("artifacts", ("exec_id", "created_at")),
        ("logs", ("exec_id", "id")),
    } <= indexed
    # Each index is one more B-tree that every checkpoint commit writes.
    assert ("calls", ("exec_id", "seq")) not in indexed


@pytest.mark.parametrize(
    ("query", "index"),
    [
        # find_cached_call: the partial index serves `cache_key = ?`
        (
            "SELECT * FROM calls WHERE cache_key = ? AND state = 'completed' "
            "AND output_artifact_id IS NOT NULL "
            "ORDER BY coalesce(ended_at, started_at) DESC LIMIT 1",
            "ix_calls_cache_key",
        ),
        # get_calls and count_children: the primary key's exec_id prefix
        ("SELECT * FROM calls WHERE exec_id = ? ORDER BY seq", "sqlite_autoindex_calls_1"),
        ("SELECT * FROM attempts WHERE exec_id = ? ORDER BY started_at, id", "sqlite_autoindex"),
        ("SELECT * FROM artifacts WHERE exec_id = ? ORDER BY created_at, id", "ix_artifacts"),
    ],
)
def test_read_paths_use_an_index(tmp_path: Path, query: str, index: str) -> None:
    backend = SqlBackend(_url(tmp_path / "kitaru.db"))
    backend.list_executions()
    with backend.engine.connect() as connection:
        n = query.count("?")
        plan = " ".join(
            str(row[-1])
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}", ("x",) * n)
        )
    backend.close()
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan


def test_reopening_a_migrated_journal_keeps_its_data(tmp_path: Path) -> None:
    from kitaru_testing import make_execution

    url = _url(tmp_path / "kitaru.db")
    first = SqlBackend(url)
    record = first.create_execution(make_execution())
    first.close()
    second = SqlBackend(url)
    assert second.get_execution(record.exec_id) == record
    second.close()
    assert _revisions(tmp_path / "kitaru.db") == set(head_revisions())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_journal_from_a_newer_kitaru_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "kitaru.db"
    backend = SqlBackend(_url(path))
    backend.list_executions()
    backend.close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeed9999'")
        connection.execute("CREATE TABLE from_the_future (x INTEGER)")
    before = (_digest(path), _tables(path), _revisions(path))

    newer = SqlBackend(_url(path))
    for _ in range(2):  # refused on every use, not only the first
        with pytest.raises(KitaruBackendError) as info:
            newer.list_executions()
        message = str(info.value)
        assert "newer Kitaru" in message
        assert "f00dfeed9999" in message
        assert "upgrade kitaru-backend-sql" in message.lower()
        assert str(path) in message
    newer.close()
    assert (_digest(path), _tables(path), _revisions(path)) == before


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    url = _url(tmp_path / "fresh" / "kitaru.db")
    backends = [SqlBackend(url) for _ in range(6)]
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
    assert _revisions(tmp_path / "fresh" / "kitaru.db") == set(head_revisions())
