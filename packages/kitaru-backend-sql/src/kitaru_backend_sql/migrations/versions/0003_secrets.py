"""The ``secrets`` table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Frozen: plain SQLAlchemy, no imports from the package.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    """Create ``secrets``: id, unique name, JSON values, timestamps."""
    op.create_table(
        "secrets",
        sa.Column("secret_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("values", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_secrets_name"),
    )


def downgrade() -> None:
    """Drop ``secrets``."""
    op.drop_table("secrets")
