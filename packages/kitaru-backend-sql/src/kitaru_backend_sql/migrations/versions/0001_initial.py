"""The initial journal schema.

Revision ID: 0001
Revises:
Create Date: 2026-05-09

Frozen: this file states the schema of revision 0001 with plain SQLAlchemy types and never
imports the package's current table definitions.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String()
STATE = sa.String(16)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _ts(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _payload(prefix: str, *, nullable: bool) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{prefix}_serializer", ID, nullable=nullable),
        sa.Column(f"{prefix}_type_ref", sa.Text(), nullable=True),
        sa.Column(f"{prefix}_inline", sa.LargeBinary(), nullable=True),
        sa.Column(f"{prefix}_uri", sa.Text(), nullable=True),
        sa.Column(f"{prefix}_size", sa.BigInteger(), nullable=nullable),
        sa.Column(f"{prefix}_sha256", ID, nullable=nullable),
    ]


def upgrade() -> None:
    """Create every journal table and its indices."""
    op.create_table(
        "executions",
        sa.Column("exec_id", ID, primary_key=True),
        sa.Column("flow_name", ID, nullable=False),
        sa.Column("source", _json(), nullable=False),
        *_payload("inputs", nullable=True),
        sa.Column("spec", _json(), nullable=False),
        sa.Column("stack", ID, nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("failure", _json(), nullable=True),
        sa.Column("result_artifact_id", ID, nullable=True),
        sa.Column("original_exec_id", ID, nullable=True),
        sa.Column("replay_plan", _json(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("started_at", nullable=True),
        _ts("ended_at", nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("lease_owner", ID, nullable=True),
        sa.Column("lease_host", ID, nullable=True),
        sa.Column("lease_pid", sa.Integer(), nullable=True),
        _ts("lease_heartbeat_at", nullable=True),
        _ts("lease_expires_at", nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_index("ix_executions_created_at", "executions", ["created_at", "exec_id"])
    op.create_index("ix_executions_flow_name", "executions", ["flow_name"])

    op.create_table(
        "calls",
        sa.Column("exec_id", ID, sa.ForeignKey("executions.exec_id"), primary_key=True),
        sa.Column("invocation_id", ID, primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("checkpoint_type", ID, nullable=True),
        sa.Column("state", STATE, nullable=False),
        _ts("started_at", nullable=False),
        _ts("ended_at", nullable=True),
        sa.Column("output_artifact_id", ID, nullable=True),
        sa.Column("cache_key", ID, nullable=True),
        sa.Column("cached_from", sa.Text(), nullable=True),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("failure", _json(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("parent_invocation_ids", _json(), nullable=False),
    )
    op.create_index("ix_calls_exec_id_seq", "calls", ["exec_id", "seq"])
    op.create_index("ix_calls_cache_key", "calls", ["cache_key"])

    op.create_table(
        "attempts",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("exec_id", ID, sa.ForeignKey("executions.exec_id"), nullable=False),
        sa.Column("attempt_id", ID, nullable=False),
        sa.Column("invocation_id", ID, nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        _ts("started_at", nullable=False),
        _ts("ended_at", nullable=True),
        sa.Column("failure", _json(), nullable=True),
        sa.UniqueConstraint("exec_id", "attempt_id", name="uq_attempts_exec_id_attempt_id"),
    )

    op.create_table(
        "waits",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("exec_id", ID, sa.ForeignKey("executions.exec_id"), nullable=False),
        sa.Column("wait_id", ID, nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("schema", _json(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("value", _json(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("resolved_at", nullable=True),
        sa.UniqueConstraint("exec_id", "wait_id", name="uq_waits_exec_id_wait_id"),
        sa.UniqueConstraint("exec_id", "name", name="uq_waits_exec_id_name"),
    )
    op.create_index("ix_waits_exec_id", "waits", ["exec_id", "created_at"])

    op.create_table(
        "artifacts",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("exec_id", ID, sa.ForeignKey("executions.exec_id"), nullable=False),
        sa.Column("invocation_id", ID, nullable=True),
        sa.Column("name", ID, nullable=False),
        *_payload("payload", nullable=False),
        sa.Column("save_type", ID, nullable=False),
        sa.Column("kind", ID, nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("artifact_id", name="uq_artifacts_artifact_id"),
    )
    op.create_index("ix_artifacts_exec_id", "artifacts", ["exec_id", "created_at"])

    op.create_table(
        "logs",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("exec_id", ID, sa.ForeignKey("executions.exec_id"), nullable=False),
        _ts("timestamp", nullable=False),
        sa.Column("level", ID, nullable=False),
        sa.Column("source", ID, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("invocation_id", ID, nullable=True),
        sa.Column("stream", ID, nullable=True),
        sa.Column("module", sa.Text(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("lineno", sa.Integer(), nullable=True),
    )
    op.create_index("ix_logs_exec_id_id", "logs", ["exec_id", "id"])


def downgrade() -> None:
    """Drop the journal (only for development; Kitaru never downgrades on its own)."""
    for table in ("logs", "artifacts", "waits", "attempts", "calls", "executions"):
        op.drop_table(table)
