"""``SqlBackend``: the Kitaru journal on SQLAlchemy Core (SQLite and PostgreSQL).

Every method is one transaction. Writes run in ``BEGIN IMMEDIATE`` on SQLite (one writer at
a time) and under row locks on PostgreSQL (``UPDATE ... RETURNING`` or ``SELECT ... FOR
UPDATE`` on the execution row first, so writers to one execution queue up in the same order
on both dialects). Fenced writes start with one of two fences, and raise
:class:`~kitaru.backend.FencingError` (rolling back) when it matches no row:

* writes that only add rows (``save_call``, ``save_attempt``, ``put_artifact``,
  ``create_wait``) read::

      SELECT cancel_requested FROM executions
      WHERE exec_id = :id AND epoch = :epoch AND state = 'running'
      FOR SHARE                                  -- PostgreSQL only

  (on SQLite the transaction already holds the database's write lock; on PostgreSQL the
  share lock makes ``finish`` / ``mark_lost`` / ``restart`` / ``acquire_lease``, which
  UPDATE the row, wait for the commit, and makes the commit wait for them);
* writes that then change the execution row (``heartbeat``, ``suspend``, ``merge_metadata``)
  lock it with ``UPDATE executions SET updated_at = :now WHERE <the same> RETURNING
  cancel_requested``.

The checkpoint commit (``save_call``) runs its prebuilt statements on the DB-API cursor
(``_driver``). The operations live in one module per part of the contract (``_executions``,
``_calls``, ``_waits``, ``_data``, ``_secrets``); the shared plumbing is in ``_journal``.
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa
from kitaru.backend import Backend, Capability

from kitaru_backend_sql._calls import CallOps
from kitaru_backend_sql._data import DataOps
from kitaru_backend_sql._documents import DocumentOps
from kitaru_backend_sql._executions import ExecutionOps
from kitaru_backend_sql._secrets import SecretOps
from kitaru_backend_sql._url import parse_url
from kitaru_backend_sql._waits import WaitOps

__all__ = ["PostgresSqlBackend", "SqlBackend"]


class SqlBackend(ExecutionOps, CallOps, WaitOps, DataOps, SecretOps, DocumentOps, Backend):
    """The journal in a SQL database: ``sqlite:///path`` or ``postgresql[+psycopg]://...``.

    Construction does no I/O. The first operation connects and migrates the schema to the
    newest revision (Alembic); a journal written by a newer Kitaru is refused with
    :class:`~kitaru.errors.KitaruBackendError` and left untouched. ``SqlBackend(url)`` with a
    PostgreSQL URL returns a :class:`PostgresSqlBackend`, which also declares ``CROSS_HOST``.

    Args:
        url: The database URL. ``postgresql://`` uses psycopg 3. A SQLite file's folder is
            created if missing; in-memory SQLite is refused.
        sqlite_synchronous: ``"FULL"`` (a committed checkpoint survives power loss) or
            ``"NORMAL"`` (faster; survives a process crash, not power loss). Default: the
            ``KITARU_SQLITE_SYNCHRONOUS`` environment variable, else FULL.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CROSS_PROCESS})

    def __new__(cls, url: str | sa.URL, *, sqlite_synchronous: str | None = None) -> SqlBackend:
        """Pick :class:`PostgresSqlBackend` for PostgreSQL URLs."""
        if cls is SqlBackend and parse_url(url).get_backend_name() == "postgresql":
            cls = PostgresSqlBackend
        return super().__new__(cls)

    def close(self) -> None:
        """Close every pooled connection. The backend reconnects if it is used again."""
        self._release_relaxed()
        self._engine.dispose()


class PostgresSqlBackend(SqlBackend):
    """:class:`SqlBackend` on PostgreSQL: the journal is shared across machines too."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CROSS_PROCESS, Capability.CROSS_HOST}
    )
