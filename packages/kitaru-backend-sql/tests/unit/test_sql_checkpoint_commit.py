"""A checkpoint commit is one short transaction; bad values are refused before writing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kitaru.backend import ExecutionState, FencingError
from kitaru.errors import KitaruUsageError
from kitaru_backend_sql import SqlBackend
from kitaru_testing import make_artifact, make_attempt, make_call, running
from sqlalchemy import event


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SqlBackend]:
    backend = SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}")
    yield backend
    backend.close()


class StatementLog:
    """Every SQL statement SQLite runs for the backend's engine (its trace callback, so
    statements run on the DB-API cursor are seen too), including BEGIN, COMMIT, ROLLBACK."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(self._statement)

    def _statement(self, statement: str) -> None:
        self.statements.append(" ".join(statement.split())[:60])


def test_a_checkpoint_commit_is_one_transaction_of_four_statements(
    backend: SqlBackend,
) -> None:
    record = running(backend)
    exec_id = record.exec_id
    log = StatementLog(backend.engine)
    call = make_call(exec_id)
    backend.save_call(
        exec_id,
        record.epoch,
        call,
        attempts=[make_attempt(exec_id)],
        artifacts=[make_artifact(exec_id, artifact_id=call.output_artifact_id)],
    )
    assert log.statements[0] == "BEGIN IMMEDIATE"
    assert log.statements[-1] == "COMMIT"
    body = log.statements[1:-1]
    assert len(body) == 4, body
    # The fence only reads: BEGIN IMMEDIATE already holds the write lock.
    assert body[0].startswith("SELECT executions.cancel_requested FROM executions")
    assert [s.split()[2] for s in body[1:]] == ["calls", "attempts", "artifacts"]
    assert backend.get_execution(exec_id) == record  # the execution row was not written


def test_a_repeated_commit_writes_no_attempts_or_artifacts(backend: SqlBackend) -> None:
    record = running(backend)
    call = make_call(record.exec_id)
    backend.save_call(record.exec_id, record.epoch, call)
    log = StatementLog(backend.engine)
    backend.save_call(
        record.exec_id,
        record.epoch,
        call,
        attempts=[make_attempt(record.exec_id)],
        artifacts=[make_artifact(record.exec_id)],
    )
    # BEGIN, fence, upsert (skipped by the database), COMMIT
    assert [s.split()[0] for s in log.statements] == ["BEGIN", "SELECT", "INSERT", "COMMIT"]
    assert backend.get_attempts(record.exec_id) == []


def test_a_fenced_commit_is_rolled_back(backend: SqlBackend) -> None:
    record = running(backend)
    backend.finish(record.exec_id, record.epoch, state=ExecutionState.COMPLETED)
    log = StatementLog(backend.engine)
    with pytest.raises(FencingError):
        backend.save_call(record.exec_id, record.epoch, make_call(record.exec_id))
    assert log.statements[0] == "BEGIN IMMEDIATE" and log.statements[-1] == "ROLLBACK"
    assert not any(s.startswith("INSERT") for s in log.statements)


def test_naive_datetimes_are_refused_and_nothing_is_written(backend: SqlBackend) -> None:
    record = running(backend)
    naive = replace(make_call(record.exec_id), started_at=datetime(2030, 1, 1))
    with pytest.raises(KitaruUsageError, match="timezone-aware"):
        backend.save_call(record.exec_id, record.epoch, naive)
    assert backend.get_calls(record.exec_id) == []


def test_values_that_are_not_json_are_refused(backend: SqlBackend) -> None:
    record = running(backend)
    with pytest.raises(KitaruUsageError, match="cannot store this value"):
        backend.merge_metadata(record.exec_id, record.epoch, {"when": object()})
    assert backend.get_execution(record.exec_id).metadata == record.metadata
