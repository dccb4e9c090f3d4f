"""Schema management: Alembic migrations run in code on first use of a journal.

There is no ``alembic.ini``: :func:`alembic_config` points Alembic at this package's
``migrations`` folder. :func:`ensure_schema` upgrades a journal to the newest revision this
code knows, holding a lock so that two processes opening a fresh journal at once migrate it
once (SQLite: the ``BEGIN IMMEDIATE`` write lock; PostgreSQL: a transaction-level advisory
lock). A journal at a revision this code does not know was written by a newer Kitaru; it is
refused and left untouched.

Alembic (with Mako and Pygments, about 60 ms of imports) is imported only when the journal is
not at :data:`HEAD_REVISION`: opening a current journal reads ``alembic_version`` with plain
SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from kitaru.errors import KitaruBackendError

from kitaru_backend_sql._engine import reader

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "alembic_config",
    "ensure_schema",
    "head_revisions",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: The newest revision in ``migrations/versions`` (the tests check it against Alembic's
#: head). Bump it with every new migration.
HEAD_REVISION = "0004"

#: ``pg_advisory_xact_lock`` key for schema migrations (any constant; "kitaru" in ASCII).
_PG_MIGRATION_LOCK = 0x6B6974617275


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config for this package's migrations, optionally bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> frozenset[str]:
    """The newest revision(s) of the journal schema this code knows."""
    return frozenset(_script().get_heads())


def _current(connection: sa.Connection) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


def _stored_revisions(connection: sa.Connection) -> frozenset[str] | None:
    """The revisions in ``alembic_version`` (plain SQL), or None without that table."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return frozenset(row[0] for row in rows)


def _refuse_unknown(current: frozenset[str], known: frozenset[str], masked_url: str) -> None:
    unknown = sorted(current - known)
    if unknown:
        raise KitaruBackendError(
            f"The journal at {masked_url} was written by a newer Kitaru (schema revision "
            f"{', '.join(unknown)}); this kitaru-backend-sql knows revisions up to "
            f"{', '.join(sorted(head_revisions()))}. Upgrade kitaru-backend-sql to use it. "
            "The journal was not changed."
        )


def ensure_schema(engine: sa.Engine, *, masked_url: str) -> None:
    """Bring the journal behind ``engine`` to the head revision (no-op when it is there)."""
    with reader(engine).connect() as connection:
        if _stored_revisions(connection) == {HEAD_REVISION}:
            return  # current: no Alembic needed
    _upgrade(engine, masked_url=masked_url)


def _upgrade(engine: sa.Engine, *, masked_url: str) -> None:
    from alembic import command

    script = _script()
    heads = frozenset(script.get_heads())
    known = frozenset(rev.revision for rev in script.walk_revisions())
    with reader(engine).connect() as connection:
        current = _current(connection)
    _refuse_unknown(current, known, masked_url)
    if current == heads:
        return
    with engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE is the migration lock
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        current = _current(connection)  # another process may have migrated meanwhile
        _refuse_unknown(current, known, masked_url)
        if current != heads:
            command.upgrade(alembic_config(connection), "heads")
