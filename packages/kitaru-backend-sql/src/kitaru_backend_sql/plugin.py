"""The ``kitaru`` entry point of this distribution: registers the ``sqlite`` and ``postgresql``
URL schemes, and the ``sqlite`` journal reader of the ``kitaru`` command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kitaru import hookimpl

__all__ = ["kitaru_register_backends", "kitaru_register_journal_readers"]


def _open(url: str) -> Any:
    # Imported here so loading the plugin stays cheap: SQLAlchemy and Alembic are imported
    # only when a journal is actually opened.
    from kitaru_backend_sql._backend import SqlBackend

    return SqlBackend(url)


@hookimpl
def kitaru_register_backends(register: Callable[..., None]) -> None:
    """Serve ``sqlite:///path`` and ``postgresql[+psycopg]://...`` journals."""
    register("sqlite", _open)
    register("postgresql", _open)


def _open_reader(url: str) -> Any:
    # sqlite3 only: SQLAlchemy is imported if the reader has to hand a call to SqlBackend.
    from kitaru_backend_sql._fastread import SqliteReader

    return SqliteReader(url)


@hookimpl(optionalhook=True)  # specified by kitaru-cli, which may not be installed
def kitaru_register_journal_readers(register: Callable[..., None]) -> None:
    """Read ``sqlite:///path`` journals with ``sqlite3`` in read-only CLI commands."""
    register("sqlite", _open_reader)
