"""Alembic environment for the Kitaru journal.

Migrations are run by :func:`kitaru_backend_sql._migrate.ensure_schema`, which passes an open
connection (already inside the migration lock's transaction) as
``config.attributes["connection"]``. To write a new revision, build the config in code::

    from alembic import command
    from kitaru_backend_sql._migrate import alembic_config

    with engine.begin() as conn:
        command.revision(alembic_config(conn), message="...", autogenerate=True)
"""

from __future__ import annotations

from alembic import context
from kitaru_backend_sql._schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Kitaru journal migrations run in code with a connection "
        "(kitaru_backend_sql._migrate.alembic_config); there is no alembic.ini."
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
