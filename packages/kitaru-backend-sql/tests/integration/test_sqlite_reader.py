"""``SqliteReader`` on real SQLite files: the same records as ``SqlBackend``, never a write,
and the usual behaviour (through ``SqlBackend``) wherever ``sqlite3`` does not apply.

The conformance suite runs on the reader too (``test_sqlite_reader_conformance.py``); these
tests add what it cannot see: which path served a call, and what happens to the file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from kitaru.backend import (
    CallState,
    ExecutionNotFoundError,
    ExecutionState,
    FailureRecord,
    NotFoundError,
    WaitState,
)
from kitaru.errors import KitaruBackendError
from kitaru_backend_sql import SqlBackend, SqliteReader
from kitaru_backend_sql._fastread import SCHEMA_REVISION
from kitaru_backend_sql._migrate import HEAD_REVISION, alembic_config, head_revisions
from kitaru_testing import make_artifact, make_attempt, make_call, make_execution, make_wait
from kitaru_testing._records import at, populate, running


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kitaru.db'}"


@pytest.fixture
def journal(url: str) -> Iterator[tuple[SqlBackend, list[str]]]:
    """A journal with executions of two flows in several states (written by SqlBackend)."""
    backend = SqlBackend(url)
    ids = []
    for index in range(6):
        record = running(backend, flow_name=f"flow_{index % 2}", created_at=at(index % 4))
        ids.append(record.exec_id)
        if index == 0:
            populate(backend, record)  # calls, attempts, artifacts, a pending wait, logs
            retry = make_attempt(
                record.exec_id,
                "plan",
                number=2,
                state=CallState.FAILED,
                failure=FailureRecord(message="again"),
            )
            backend.save_attempt(record.exec_id, record.epoch, retry)
        elif index == 1:
            backend.finish(
                record.exec_id,
                record.epoch,
                state=ExecutionState.FAILED,
                failure=FailureRecord(message="boom", exception_type="ValueError"),
                status_reason="boom",
            )
        elif index == 2:
            wait = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
            backend.resolve_wait(
                record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value={"ok": True}
            )
            backend.put_artifact(
                record.exec_id,
                record.epoch,
                make_artifact(record.exec_id, save_type="event", name="child"),
            )
            backend.finish(record.exec_id, record.epoch, state=ExecutionState.COMPLETED)
        elif index == 3:
            call = make_call(record.exec_id, "only", state=CallState.RUNNING, ended_at=None)
            backend.save_call(record.exec_id, record.epoch, call)
    backend.create_execution(make_execution(created_at=at(9), metadata={}, spec={}))
    yield backend, ids
    backend.close()


def _digest(path: Path) -> dict[str, str]:
    """Content hashes of the database and of its WAL unless empty. (Any SQLite reader of a
    WAL database creates an empty WAL and the shared-memory index if they are missing.)"""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.iterdir())
        if p.name.startswith(path.name)
        and not p.name.endswith("-shm")
        and (p.stat().st_size > 0 or not p.name.endswith("-wal"))
    }


def test_schema_revision_is_the_head_revision() -> None:
    assert SCHEMA_REVISION == HEAD_REVISION
    assert {SCHEMA_REVISION} == set(head_revisions())


def test_every_read_returns_what_sql_backend_returns(
    url: str, journal: tuple[SqlBackend, list[str]]
) -> None:
    backend, ids = journal
    reader = SqliteReader(url)
    assert reader.uses_sqlite3
    every = backend.list_executions()
    assert reader.list_executions() == every
    for flow in ("flow_0", "flow_1", "nope"):
        for states in (
            None,
            [ExecutionState.RUNNING],
            [ExecutionState.FAILED, ExecutionState.COMPLETED],
            [],
        ):
            for limit in (None, 1, 2, 100):
                kwargs = {"flow_name": flow, "states": states, "limit": limit}
                assert reader.list_executions(**kwargs) == backend.list_executions(**kwargs)
    everyone = [r.exec_id for r in every]
    asked = [*everyone, everyone[0], "missing"]
    assert reader.count_children(asked) == backend.count_children(asked)
    assert reader.count_children([]) == {}
    for exec_id in everyone:
        assert reader.get_execution(exec_id) == backend.get_execution(exec_id)
        assert reader.get_calls(exec_id) == backend.get_calls(exec_id)
        assert reader.get_attempts(exec_id) == backend.get_attempts(exec_id)
        assert reader.get_waits(exec_id) == backend.get_waits(exec_id)
        artifacts = reader.list_artifacts(exec_id)
        assert artifacts == backend.list_artifacts(exec_id)
        for artifact in artifacts:
            assert reader.get_artifact(artifact.artifact_id) == artifact
        for size in (3, 10, len(exec_id)):
            prefix = exec_id[:size]
            assert reader.find_execution_ids(prefix, limit=3) == backend.find_execution_ids(
                prefix, limit=3
            )
    assert reader.get_calls(ids[0]) and reader.get_attempts(ids[0])  # the varied one
    reader.close()


@pytest.mark.parametrize(
    "read",
    ["get_execution", "get_calls", "get_attempts", "get_waits", "list_artifacts"],
)
def test_unknown_ids_raise_the_same_errors(
    url: str, journal: tuple[SqlBackend, list[str]], read: str
) -> None:
    backend, _ = journal
    reader = SqliteReader(url)
    with pytest.raises(ExecutionNotFoundError) as ours:
        getattr(reader, read)("ex-missing")
    with pytest.raises(ExecutionNotFoundError) as theirs:
        getattr(backend, read)("ex-missing")
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotFoundError, match="Artifact 'art-missing' was not found"):
        reader.get_artifact("art-missing")


def test_reads_never_change_the_file(url: str, journal: tuple[SqlBackend, list[str]]) -> None:
    backend, _ = journal
    backend.close()  # checkpoints the WAL into the database file
    path = Path(url.removeprefix("sqlite:///"))
    before = _digest(path)
    reader = SqliteReader(url)
    for record in reader.list_executions():
        reader.get_calls(record.exec_id)
        reader.get_waits(record.exec_id)
        reader.list_artifacts(record.exec_id)
    reader.close()
    assert _digest(path) == before


def test_a_missing_journal_is_created_by_sql_backend(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'kitaru.db'}"
    reader = SqliteReader(url)
    assert reader.list_executions() == []  # as SqlBackend: folder and file created, migrated
    assert not reader.uses_sqlite3
    reader.close()
    assert SqliteReader(url).uses_sqlite3


def test_a_newer_journal_is_refused_and_left_alone(
    url: str, journal: tuple[SqlBackend, list[str]]
) -> None:
    backend, _ = journal
    backend.close()
    path = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    before = _digest(path)
    reader = SqliteReader(url)
    with pytest.raises(KitaruBackendError, match="newer Kitaru") as ours:
        reader.list_executions()
    assert not reader.uses_sqlite3
    with pytest.raises(KitaruBackendError) as theirs:
        SqlBackend(url).list_executions()
    assert str(ours.value) == str(theirs.value)
    assert _digest(path) == before


def test_an_older_journal_is_migrated_as_before(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
    engine.dispose()
    reader = SqliteReader(url)
    assert not reader.uses_sqlite3
    assert reader.list_executions() == []  # SqlBackend migrated it to head
    reader.close()
    assert SqliteReader(url).uses_sqlite3


@pytest.mark.parametrize(
    "url", ["sqlite:///relative.db?mode=ro", "sqlite:///%41.db", "sqlite://"], ids=str
)
def test_other_url_forms_go_to_sql_backend(url: str, tmp_path: Path) -> None:
    reader = SqliteReader(url)
    assert not reader.uses_sqlite3


def test_reads_do_not_wait_for_a_writer(url: str, journal: tuple[SqlBackend, list[str]]) -> None:
    """A runner holding the write lock (WAL) neither blocks reads nor shows them uncommitted
    rows."""
    backend, _ = journal
    reader = SqliteReader(url)
    committed = reader.list_executions()
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE executions SET flow_name = 'changed'")
    started = time.monotonic()
    assert reader.list_executions() == committed
    assert time.monotonic() - started < 5
    writer.execute("COMMIT")
    writer.close()
    assert {r.flow_name for r in reader.list_executions()} == {"changed"}
    reader.close()


def test_values_sqlite_stores_as_numbers_are_read_as_sql_backend_reads_them(
    url: str, journal: tuple[SqlBackend, list[str]]
) -> None:
    """A JSON column has NUMERIC affinity: a wait value of 42 is stored as an integer. Such
    rows are read by SqlBackend."""
    backend, _ = journal
    record = running(backend)
    for value in (42, 1.5, "text", None, [1, 2]):
        wait = backend.create_wait(
            record.exec_id, record.epoch, make_wait(record.exec_id, f"w{value!r}")
        )
        backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value=value)
    reader = SqliteReader(url)
    assert reader.get_waits(record.exec_id) == backend.get_waits(record.exec_id)
    assert reader.uses_sqlite3
    reader.close()


def test_writes_go_to_sql_backend(url: str, journal: tuple[SqlBackend, list[str]]) -> None:
    reader = SqliteReader(url)
    record = reader.create_execution(make_execution())
    assert reader.get_execution(record.exec_id) == record
    assert type(reader.full_backend()) is SqlBackend
    reader.close()


@pytest.mark.parametrize("chunk", [1, 2, 900])
def test_counts_of_few_or_most_executions(
    url: str, journal: tuple[SqlBackend, list[str]], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few ids are looked up; most of the journal is counted in one pass and filtered."""
    from kitaru_backend_sql import _fastread

    monkeypatch.setattr(_fastread, "_CHUNK", chunk)
    backend, _ = journal
    every = [r.exec_id for r in backend.list_executions()]
    reader = SqliteReader(url)
    for ids in (every[:1], every[:3], every, [*every[:2], "missing", "missing-too"], []):
        assert reader.count_children(ids) == backend.count_children(ids)
    reader.close()
