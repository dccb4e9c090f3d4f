"""Fewer index writes per checkpoint commit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

* ``ix_calls_exec_id_seq`` is dropped: a run's calls are found through the primary key
  ``(exec_id, invocation_id)`` and sorted by ``seq`` (a run has at most thousands of calls),
  and every commit no longer writes a third B-tree for ``calls``.
* ``ix_calls_cache_key`` becomes partial, ``WHERE cache_key IS NOT NULL``: the lookup
  (``cache_key = :key``) only ever wants keyed calls, and calls without a key (caching off)
  no longer write an index entry.

Frozen: plain SQLAlchemy, no imports from the package.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_KEYED = "cache_key IS NOT NULL"


def upgrade() -> None:
    """Drop ``ix_calls_exec_id_seq``; make ``ix_calls_cache_key`` partial."""
    op.drop_index("ix_calls_exec_id_seq", table_name="calls")
    op.drop_index("ix_calls_cache_key", table_name="calls")
    op.create_index(
        "ix_calls_cache_key",
        "calls",
        ["cache_key"],
        sqlite_where=sa.text(_KEYED),
        postgresql_where=sa.text(_KEYED),
    )


def downgrade() -> None:
    """Back to the 0001 indices."""
    op.drop_index("ix_calls_cache_key", table_name="calls")
    op.create_index("ix_calls_cache_key", "calls", ["cache_key"])
    op.create_index("ix_calls_exec_id_seq", "calls", ["exec_id", "seq"])
