"""The plumbing every ``SqlBackend`` operation shares: engine, schema readiness,
transactions, error translation, and the fencing prelude."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import sqlalchemy as sa
from kitaru.backend import (
    ExecutionNotFoundError,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    FencingError,
    WaitState,
    ended_failure,
)
from kitaru.errors import KitaruBackendError, KitaruStateError
from sqlalchemy.dialects import postgresql, sqlite

from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._driver import DriverStatement, UnstorableValueError
from kitaru_backend_sql._engine import create_journal_engine, reader, resolve_synchronous
from kitaru_backend_sql._errors import translate_errors, unstorable
from kitaru_backend_sql._migrate import ensure_schema
from kitaru_backend_sql._schema import executions, waits
from kitaru_backend_sql._statements import HotStatements
from kitaru_backend_sql._url import mask_url, parse_url

__all__ = ["NO_LEASE", "SqlJournal", "fencing_error", "first", "raise_fenced", "utcnow"]

E = executions
W = waits
NO_LEASE = codec.lease_values(None)
_PENDING_WAIT = WaitState.PENDING.value
#: Opens of a brand-new SQLite journal tried before a lock error is reported.
_FIRST_OPEN_ATTEMPTS = 5


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def first(
    connection: sa.Connection, statement: sa.Executable, params: Any = None
) -> sa.RowMapping | None:
    """The first row of ``statement`` as a mapping, or None."""
    return connection.execute(statement, params).mappings().first()


@contextmanager
def _transaction(
    connection: Any, begin: str | None, *, on_broken: Callable[[], None]
) -> Iterator[Any]:
    """One transaction on a DB-API connection (``begin``: the statement that opens it, if
    any); rolled back on any error, ``on_broken`` called if even the rollback fails."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        yield cursor
        connection.commit()
    except BaseException:
        try:
            connection.rollback()
        except Exception:
            on_broken()
        raise
    finally:
        cursor.close()


def _discard(connection: Any) -> None:
    """Close a checked-out pool connection for good (it is not reused by the pool)."""
    connection.invalidate()
    connection.close()


class SqlJournal:
    """Shared state and helpers of :class:`~kitaru_backend_sql.SqlBackend` (no contract
    methods here)."""

    def __init__(self, url: str | sa.URL, *, sqlite_synchronous: str | None = None) -> None:
        self._url = parse_url(url)
        self._masked = mask_url(self._url)
        self._engine = create_journal_engine(self._url, sqlite_synchronous=sqlite_synchronous)
        self._reader = reader(self._engine)
        self._is_pg = self._engine.dialect.name == "postgresql"
        #: SQLite's configured ``synchronous`` mode; an unsynced write drops to NORMAL only
        #: when this is FULL.
        self._relax_sqlite = not self._is_pg and resolve_synchronous(sqlite_synchronous) == "FULL"
        self._insert: Callable[[sa.Table], Any] = (
            postgresql.insert if self._is_pg else sqlite.insert
        )
        self._sql = HotStatements(self._engine.dialect)
        self._dbapi_error: type[Exception] = self._engine.dialect.loaded_dbapi.Error
        self._ready = False
        self._ready_lock = threading.Lock()
        #: SQLite at FULL: one pooled connection kept at ``synchronous=NORMAL`` for the
        #: unsynced writes (journaled child events), used under ``_relaxed_lock``.
        self._relaxed: Any = None
        self._relaxed_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._masked!r})"

    @property
    def url(self) -> str:
        """The journal URL with its password masked."""
        return self._masked

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for maintenance tools; not part of the journal contract)."""
        return self._engine

    # -- transactions ----------------------------------------------------------------------

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                for attempt in range(1, _FIRST_OPEN_ATTEMPTS + 1):
                    try:
                        with translate_errors(self._url):
                            ensure_schema(self._engine, masked_url=self._masked)
                        break
                    except KitaruBackendError as exc:
                        # Several processes opening a brand-new SQLite file at once can get
                        # SQLITE_BUSY without the busy timeout (switching it to WAL): retry.
                        if "database is locked" not in str(exc) or attempt == _FIRST_OPEN_ATTEMPTS:
                            raise
                        time.sleep(0.05 * attempt)
                self._ready = True

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One write transaction (SQLite: BEGIN IMMEDIATE); rolled back on any error."""
        self._ensure_ready()
        with translate_errors(self._url), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _driver_write(self, *, sync: bool = True) -> Iterator[Any]:
        """One write transaction on the DB-API connection; yields its cursor.

        For the prebuilt :class:`~._driver.DriverStatement` s of the checkpoint commit. The
        connection comes from the engine's pool (so it has the same settings); SQLite takes
        the write lock with ``BEGIN IMMEDIATE`` as :meth:`_write` does, psycopg begins
        implicitly. Rolled back on any error.

        ``sync=False`` commits without waiting for the disk: SQLite runs the transaction at
        ``synchronous=NORMAL`` (the WAL is written, not fsync'd; the next FULL commit syncs it
        with everything before it), PostgreSQL with ``synchronous_commit=off``. The write
        survives a crash of this process at once and power loss from the next synced commit.
        """
        self._ensure_ready()
        if not sync and self._relax_sqlite:
            with self._relaxed_write() as cursor:
                yield cursor
            return
        if not self._is_pg:
            begin: str | None = "BEGIN IMMEDIATE"
        else:  # psycopg begins implicitly
            begin = None if sync else "SET LOCAL synchronous_commit TO OFF"
        with translate_errors(self._url, self._dbapi_error):
            connection = self._engine.raw_connection()
            try:
                # A connection that cannot even roll back is invalidated: the pool replaces it.
                with _transaction(connection, begin, on_broken=connection.invalidate) as cursor:
                    yield cursor
            finally:
                connection.close()  # back to the pool

    @contextmanager
    def _relaxed_write(self) -> Iterator[Any]:
        """An unsynced SQLite write on the connection kept at ``synchronous=NORMAL`` (taken
        from the pool on first use and kept: no checkout and no mode switch per write)."""
        with self._relaxed_lock, translate_errors(self._url, self._dbapi_error):
            connection = self._relaxed
            if connection is None:
                connection = self._engine.raw_connection()
                try:
                    connection.driver_connection.execute("PRAGMA synchronous=NORMAL")
                except BaseException:
                    _discard(connection)
                    raise
                self._relaxed = connection

            def broken() -> None:  # unusable: the next write takes another
                self._relaxed = None
                _discard(connection)

            with _transaction(connection, "BEGIN IMMEDIATE", on_broken=broken) as cursor:
                yield cursor

    def _release_relaxed(self) -> None:
        """Give the relaxed connection up (closed: it never goes back to the pool at NORMAL)."""
        with self._relaxed_lock:
            connection, self._relaxed = self._relaxed, None
        if connection is not None:
            _discard(connection)

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """One read-only snapshot (SQLite: deferred BEGIN, never blocks writers)."""
        self._ensure_ready()
        with translate_errors(self._url), self._reader.connect() as connection:
            yield connection

    def _binary(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        """Order strings by code point, as Python does (PostgreSQL's default is the locale)."""
        return column.collate("C") if self._is_pg else column

    # -- fencing ---------------------------------------------------------------------------

    def _fence(
        self,
        connection: sa.Connection,
        exec_id: str,
        epoch: int,
        statement: sa.Executable | None = None,
        **params: Any,
    ) -> bool:
        """Run the locking fence (or ``statement``, a variant of it); return
        ``cancel_requested``. Raises FencingError / ExecutionNotFoundError otherwise."""
        if statement is None:
            statement = self._sql.fence
        if statement is not self._sql.fence_read:
            params.setdefault("fence_now", utcnow())
        row = connection.execute(
            statement, {"fence_exec_id": exec_id, "fence_epoch": epoch, **params}
        ).first()
        if row is None:
            raise_fenced(connection, exec_id, epoch)
        return bool(row[0])

    def _bind(self, statement: DriverStatement, rows: Iterable[Mapping[str, Any]]) -> list[Any]:
        """``statement``'s DB-API parameters for each of ``rows``; values the journal cannot
        store raise :class:`~kitaru.errors.KitaruUsageError` before any transaction starts."""
        try:
            return [statement.bind(row) for row in rows]
        except UnstorableValueError as error:
            raise unstorable(self._url, error) from error

    def _driver_fence(self, cursor: Any, exec_id: str, epoch: int) -> bool:
        """The read fence (``fence_read``) on a :meth:`_driver_write` cursor."""
        fence = self._sql.raw_fence
        cursor.execute(fence.sql, fence.bind({"fence_exec_id": exec_id, "fence_epoch": epoch}))
        row = cursor.fetchone()
        if row is None:
            cursor.execute(self._sql.raw_state.sql, self._sql.raw_state.bind({"exec_id": exec_id}))
            raise fencing_error(exec_id, epoch, cursor.fetchone())
        return bool(row[0])

    # -- small shared queries --------------------------------------------------------------

    @staticmethod
    def _require(connection: sa.Connection, exec_id: str) -> None:
        row = connection.execute(sa.select(E.c.exec_id).where(E.c.exec_id == exec_id)).first()
        if row is None:
            raise ExecutionNotFoundError(exec_id)

    @staticmethod
    def _state_of(connection: sa.Connection, exec_id: str) -> ExecutionState:
        state = connection.execute(sa.select(E.c.state).where(E.c.exec_id == exec_id)).scalar()
        if state is None:
            raise ExecutionNotFoundError(exec_id)
        return ExecutionState(state)

    @staticmethod
    def _lock_execution(connection: sa.Connection, exec_id: str) -> ExecutionRecord:
        """Read the execution under a row lock (PostgreSQL ``FOR UPDATE``)."""
        row = first(connection, sa.select(E).where(E.c.exec_id == exec_id).with_for_update())
        if row is None:
            raise ExecutionNotFoundError(exec_id)
        return codec.execution_from_row(row)

    @staticmethod
    def _set(connection: sa.Connection, exec_id: str, **values: Any) -> ExecutionRecord:
        """Update the execution row (already locked by the caller); return the new record."""
        statement = (
            sa.update(E)
            .where(E.c.exec_id == exec_id)
            .values(updated_at=utcnow(), **values)
            .returning(*E.c)
        )
        return codec.execution_from_row(connection.execute(statement).mappings().one())

    @staticmethod
    def _abort_pending_waits(connection: sa.Connection, exec_id: str, now: datetime) -> None:
        connection.execute(
            sa.update(W)
            .where(W.c.exec_id == exec_id, W.c.state == _PENDING_WAIT)
            .values(state=WaitState.ABORTED.value, resolved_at=now)
        )

    def _end_running(
        self,
        connection: sa.Connection,
        exec_id: str,
        now: datetime,
        *,
        state: ExecutionState,
        failure: FailureRecord | None = None,
        status_reason: str | None = None,
    ) -> None:
        """The execution finished: its calls and attempts still running become failed.

        Every finish pays for it, so the two prebuilt updates run on the transaction's DB-API
        cursor (see ``_driver``), not through Core.
        """
        values = {
            "end_exec_id": exec_id,
            "end_ended_at": now,
            "end_failure": codec.failure_values(
                ended_failure(failure=failure, status_reason=status_reason, state=state)
            ),
        }
        cursor = connection.connection.cursor()
        try:
            for statement in self._sql.raw_end_running:
                [params] = self._bind(statement, [values])
                cursor.execute(statement.sql, params)
        finally:
            cursor.close()

    @staticmethod
    def _has_pending_wait(connection: sa.Connection, exec_id: str) -> bool:
        statement = (
            sa.select(W.c.id).where(W.c.exec_id == exec_id, W.c.state == _PENDING_WAIT).limit(1)
        )
        return connection.execute(statement).first() is not None


def raise_fenced(connection: sa.Connection, exec_id: str, epoch: int) -> NoReturn:
    """Raise the error for a fenced write that matched no row."""
    row = connection.execute(sa.select(E.c.epoch, E.c.state).where(E.c.exec_id == exec_id)).first()
    raise fencing_error(exec_id, epoch, row)


def fencing_error(exec_id: str, epoch: int, row: Sequence[Any] | None) -> KitaruStateError:
    """The error for a fenced write that matched no row; ``row`` is the execution's
    ``(epoch, state)``, or None when it does not exist."""
    if row is None:
        return ExecutionNotFoundError(exec_id)
    current, state = row
    return FencingError(
        f"Stale runner for execution '{exec_id}': epoch {epoch} is not the current "
        f"epoch {current} (state {state}).",
        exec_id=exec_id,
        status=ExecutionState(state),
    )
