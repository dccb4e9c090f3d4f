"""The ``documents`` table (adapter state: LangGraph checkpoints, agent sessions).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Frozen: plain SQLAlchemy, no imports from the package.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    """Create ``documents``: (namespace, key) primary key, JSON value, owning execution."""
    op.create_table(
        "documents",
        sa.Column("namespace", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", _json(), nullable=True),
        sa.Column("exec_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``documents``."""
    op.drop_table("documents")
