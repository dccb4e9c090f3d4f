"""The engine factory: one SQLAlchemy engine per journal, tuned per dialect.

SQLite: WAL, ``BEGIN IMMEDIATE`` for every write transaction (the driver's own transaction
handling is switched off so SQLAlchemy's ``begin`` event owns BEGIN), a 30 s busy timeout,
foreign keys on and ``synchronous=FULL`` unless ``KITARU_SQLITE_SYNCHRONOUS=NORMAL``.
Read-only work runs on :func:`reader` connections, which use a deferred ``BEGIN`` (a WAL
snapshot that does not block writers).

PostgreSQL: psycopg 3, ``READ COMMITTED``, ``pool_pre_ping``; compare-and-set is done with row
locks in :mod:`kitaru_backend_sql._backend`.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from kitaru.errors import KitaruUsageError
from sqlalchemy import event

from kitaru_backend_sql._url import sqlite_path

__all__ = [
    "SYNCHRONOUS_ENV",
    "create_journal_engine",
    "reader",
    "resolve_synchronous",
]

#: Environment variable choosing SQLite's durability mode (read when an engine is created).
SYNCHRONOUS_ENV = "KITARU_SQLITE_SYNCHRONOUS"

#: ``FULL`` (default): a committed checkpoint survives power loss. ``NORMAL``: faster, survives
#: a process crash but not power loss or an OS crash.
_SYNCHRONOUS_MODES = ("FULL", "NORMAL")

_READ_OPTION = "kitaru_read_only"
BUSY_TIMEOUT_SECONDS = 30


def resolve_synchronous(value: str | None = None) -> str:
    """The SQLite ``synchronous`` mode to use: ``value``, else the environment, else FULL.

    Raises :class:`~kitaru.errors.KitaruUsageError` for anything but FULL or NORMAL.
    """
    source = "sqlite_synchronous"
    if value is None:
        value = os.environ.get(SYNCHRONOUS_ENV)
        source = SYNCHRONOUS_ENV
    if value is None or value.strip() == "":
        return "FULL"
    mode = value.strip().upper()
    if mode not in _SYNCHRONOUS_MODES:
        raise KitaruUsageError(
            f"{source}={value!r} is not supported; use FULL (default: a committed checkpoint "
            "survives power loss) or NORMAL (faster: survives a process crash, not power loss)."
        )
    return mode


def create_journal_engine(url: sa.URL, *, sqlite_synchronous: str | None = None) -> sa.Engine:
    """Create the engine for a parsed journal URL (see :func:`~._url.parse_url`)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, resolve_synchronous(sqlite_synchronous))
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        isolation_level="READ COMMITTED",
    )


def reader(engine: sa.Engine) -> sa.Engine:
    """An engine view whose transactions are read-only snapshots (deferred BEGIN on SQLite)."""
    return engine.execution_options(**{_READ_OPTION: True})


def _sqlite_engine(url: sa.URL, synchronous: str) -> sa.Engine:
    path = sqlite_path(url)
    if path is not None and path.parent != path:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(_READ_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            # Take the write lock up front; waits up to busy_timeout for other writers.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
