"""SQLite engine settings: WAL, BEGIN IMMEDIATE for writes, busy timeout, synchronous mode;
how datetimes are stored."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from kitaru.errors import KitaruUsageError
from kitaru_backend_sql import SYNCHRONOUS_ENV, SqlBackend
from kitaru_backend_sql._engine import create_journal_engine, reader, resolve_synchronous
from kitaru_backend_sql._types import UTCDateTime
from sqlalchemy.dialects import sqlite


def _pragmas(backend: SqlBackend) -> dict[str, object]:
    backend.list_executions()
    with backend.engine.connect() as connection:
        return {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }


@pytest.fixture(autouse=True)
def _no_synchronous_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SYNCHRONOUS_ENV, raising=False)


def test_default_settings(tmp_path: Path) -> None:
    backend = SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}")
    assert _pragmas(backend) == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "busy_timeout": 30000,
        "foreign_keys": 1,
    }
    backend.close()


def test_normal_mode_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SYNCHRONOUS_ENV, "normal")
    backend = SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}")
    assert _pragmas(backend)["synchronous"] == 1  # NORMAL
    backend.close()


def test_the_argument_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SYNCHRONOUS_ENV, "NORMAL")
    backend = SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}", sqlite_synchronous="FULL")
    assert _pragmas(backend)["synchronous"] == 2
    backend.close()


@pytest.mark.parametrize("value", ["OFF", "fast", "0", "EXTRA; DROP TABLE x"])
def test_unsupported_synchronous_values_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(SYNCHRONOUS_ENV, value)
    with pytest.raises(KitaruUsageError) as info:
        SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}")
    message = str(info.value)
    assert SYNCHRONOUS_ENV in message and repr(value) in message
    assert "FULL" in message and "NORMAL" in message
    assert not (tmp_path / "kitaru.db").exists()


def test_resolve_synchronous() -> None:
    assert resolve_synchronous() == "FULL"
    assert resolve_synchronous(" Normal ") == "NORMAL"
    with pytest.raises(KitaruUsageError, match="sqlite_synchronous='off'"):
        resolve_synchronous("off")


def _traced_unsynced_write(backend: SqlBackend, writes: int = 1) -> list[str]:
    """Statements of ``writes`` x ``put_artifacts(..., sync=False)`` on the journal's
    connections."""
    from kitaru_testing import make_artifact, running

    statements: list[str] = []

    @sa.event.listens_for(backend.engine, "connect")
    def _trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    backend.engine.dispose()  # new connections get the trace
    record = running(backend)
    events = [make_artifact(record.exec_id, name=f"event#{n}") for n in range(writes)]
    statements.clear()
    for event in events:
        backend.put_artifacts(record.exec_id, record.epoch, [event], sync=False)
    assert [backend.get_artifact(event.artifact_id) for event in events] == events
    return statements


def test_unsynced_writes_commit_at_normal_on_a_connection_of_their_own(tmp_path: Path) -> None:
    backend = SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}")
    statements = _traced_unsynced_write(backend, writes=2)
    # One connection is switched to NORMAL once, then kept for the unsynced writes.
    assert [s for s in statements if s.startswith("PRAGMA synchronous")] == [
        "PRAGMA synchronous=NORMAL"
    ]
    relax = statements.index("PRAGMA synchronous=NORMAL")
    assert relax < statements.index("BEGIN IMMEDIATE")
    assert statements.count("BEGIN IMMEDIATE") == 2 and statements.count("COMMIT") == 2
    relaxed = backend._relaxed  # noqa: SLF001 - the kept connection
    assert relaxed.driver_connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert _pragmas(backend)["synchronous"] == 2  # the pooled connections stay FULL
    backend.close()  # the relaxed connection is closed, never pooled
    assert backend._relaxed is None  # noqa: SLF001
    assert _pragmas(backend)["synchronous"] == 2
    backend.close()


def test_unsynced_writes_on_a_normal_journal_change_nothing(tmp_path: Path) -> None:
    backend = SqlBackend(f"sqlite:///{tmp_path / 'kitaru.db'}", sqlite_synchronous="NORMAL")
    statements = _traced_unsynced_write(backend)
    assert not [s for s in statements if s.startswith("PRAGMA synchronous")]
    assert _pragmas(backend)["synchronous"] == 1
    backend.close()


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "kitaru.db"
    backend = SqlBackend(f"sqlite:///{path}")
    backend.list_executions()
    backend.close()
    assert path.is_file()


def _lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_write_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "kitaru.db"
    engine = create_journal_engine(sa.make_url(f"sqlite:///{path}"))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.begin():
        assert not _lock_is_free(path)  # BEGIN IMMEDIATE, before any statement
    with reader(engine).connect() as connection:
        connection.exec_driver_sql("SELECT * FROM t").all()
        assert _lock_is_free(path)  # reads take a deferred snapshot, not the write lock
    assert _lock_is_free(path)
    engine.dispose()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2031, 4, 5, 6, 7, 8, 123456, tzinfo=UTC),
        datetime(2031, 4, 5, 6, 7, 8, tzinfo=UTC),  # no microseconds: still written
        datetime(5, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2031, 4, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
        None,
    ],
)
def test_utc_datetimes_are_written_as_sqlalchemys_sqlite_datetime_text(
    value: datetime | None,
) -> None:
    """UTCDateTime's fast SQLite bind processor writes exactly what SQLAlchemy's own SQLite
    DATETIME processor writes for the same UTC value (so old and new rows sort and compare
    alike, and read back through the same result processor)."""
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    reference = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    expected = None if value is None else reference(value.astimezone(UTC).replace(tzinfo=None))
    assert fast(value) == expected
    with pytest.raises(ValueError, match="timezone-aware"):
        fast(datetime(2031, 1, 1))


def test_journal_errors_mask_the_password_only_as_a_password() -> None:
    from kitaru_backend_sql._errors import _mask_userinfo

    short = sa.make_url("postgresql://bob:p@127.0.0.1:1/db")
    text = "server at 127.0.0.1 port 1 failed: accepting postgresql://bob:p@127.0.0.1 password=p"
    assert _mask_userinfo(short, text) == (
        "server at 127.0.0.1 port 1 failed: accepting postgresql://bob:***@127.0.0.1 password=***"
    )
    long = sa.make_url("postgresql://bob:s3cr3t!x@h/db")
    text = "got s3cr3t!x, password='s3cr3t!x', postgresql://bob:s3cr3t%21x@h"
    assert _mask_userinfo(long, text) == "got ***, password='***', postgresql://bob:***@h"
