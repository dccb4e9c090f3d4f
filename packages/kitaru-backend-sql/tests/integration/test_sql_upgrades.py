"""Journals written at an older schema revision upgrade to head on first use and keep their
data (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _postgres import admin_engine, create_database, drop_database, postgres_url_or_skip
from alembic import command
from alembic.runtime.migration import MigrationContext
from kitaru.backend import CallState
from kitaru_backend_sql import SqlBackend
from kitaru_backend_sql._migrate import alembic_config, head_revisions
from kitaru_testing import make_attempt, make_call, make_wait, running
from kitaru_testing._records import populate, snapshot

INDICES_0001 = {
    ("calls", "ix_calls_exec_id_seq", ("exec_id", "seq")),
    ("calls", "ix_calls_cache_key", ("cache_key",)),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.URL]:
    """The URL of an empty database (no schema yet)."""
    if request.param == "sqlite":
        yield sa.make_url(f"sqlite:///{tmp_path / 'kitaru.db'}")
        return
    url = postgres_url_or_skip()
    with admin_engine(url) as engine:
        name = create_database(engine)
        yield url.set(database=name)
        drop_database(engine, name)


def _state(url: sa.URL) -> tuple[set[str], set[tuple[str, str, tuple[str, ...]]], str | None]:
    """Revision(s), the ``calls`` indices, and the cache-key index's WHERE clause."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            revisions = set(MigrationContext.configure(connection).get_current_heads())
            indices = sa.inspect(connection).get_indexes("calls")
    finally:
        engine.dispose()
    names = {("calls", i["name"], tuple(i["column_names"])) for i in indices}
    where = next(
        (
            str(i.get("dialect_options", {}).get(f"{url.get_backend_name()}_where"))
            for i in indices
            if i["name"] == "ix_calls_cache_key" and i.get("dialect_options")
        ),
        None,
    )
    return revisions, names, where


def _migrate_to(url: sa.URL, revision: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def test_a_journal_at_0001_upgrades_to_head_and_keeps_its_data(empty_journal: sa.URL) -> None:
    url = empty_journal
    _migrate_to(url, "0001")
    revisions, indices, _where = _state(url)
    assert revisions == {"0001"}
    assert indices >= INDICES_0001

    # Write real data at 0001 with this code (the tables' columns are the same at 0001 and
    # head; only indices changed). The backend must not migrate yet, so it is told the
    # schema is ready.
    old = SqlBackend(url)
    old._ready = True
    record = running(old)
    populate(old, record)
    exec_id = record.exec_id
    keyed = make_call(exec_id, "keyed", seq=1, cache_key="key-1")
    unkeyed = make_call(exec_id, "unkeyed", seq=2, cache_key=None)
    pending = make_call(
        exec_id, "pending", seq=3, state=CallState.RUNNING, ended_at=None, output_artifact_id=None
    )
    for call in (keyed, unkeyed, pending):
        old.save_call(exec_id, record.epoch, call, attempts=[make_attempt(exec_id, call.name)])
    old.create_wait(exec_id, record.epoch, make_wait(exec_id, "later"))
    before = snapshot(old, exec_id)
    old.close()
    assert _state(url)[0] == {"0001"}

    upgraded = SqlBackend(url)
    assert snapshot(upgraded, exec_id) == before  # first use migrated it
    assert upgraded.find_cached_call("key-1") == keyed
    assert upgraded.count_children([exec_id]) == {exec_id: (4, 1)}
    # ... and it keeps working at head.
    done = make_call(exec_id, "pending", seq=3, cache_key="key-2")
    upgraded.save_call(exec_id, record.epoch, done)
    assert upgraded.find_cached_call("key-2") == done
    assert [c.invocation_id for c in upgraded.get_calls(exec_id)] == [
        "plan",
        "keyed",
        "unkeyed",
        "pending",
    ]
    upgraded.close()

    revisions, indices, where = _state(url)
    assert revisions == set(head_revisions())
    assert ("calls", "ix_calls_exec_id_seq", ("exec_id", "seq")) not in indices
    assert ("calls", "ix_calls_cache_key", ("cache_key",)) in indices
    assert where is not None and "cache_key IS NOT NULL" in where
