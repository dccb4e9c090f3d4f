"""The journal tables, as SQLAlchemy Core metadata for queries.

The schema in a database is created and changed only by the Alembic migrations in
``migrations/versions``; ``tests/unit/test_sql_migrations.py`` checks that the two agree.

Hot paths and the index that serves each:

* list executions newest first: ``ix_executions_created_at`` (created_at, exec_id)
* list by flow: ``ix_executions_flow_name``
* a run's calls in order, the commit upsert, call counts: the primary key ``(exec_id,
  invocation_id)`` (sorted by ``seq`` after; no index of its own, to keep commits lean)
* cache lookups: ``ix_calls_cache_key``, partial (``WHERE cache_key IS NOT NULL``), so calls
  without a key write no index entry
* a run's waits: ``ix_waits_exec_id`` (plus the unique ``(exec_id, name)`` for idempotent
  creation)
* a run's artifacts: ``ix_artifacts_exec_id``
* a run's logs in order: ``ix_logs_exec_id_id``
* secrets by id (the primary key) or by name (``uq_secrets_name``)
"""

from __future__ import annotations

import sqlalchemy as sa

from kitaru_backend_sql._types import JSONValue, UTCDateTime

__all__ = [
    "artifacts",
    "attempts",
    "calls",
    "documents",
    "executions",
    "logs",
    "metadata",
    "secrets",
    "waits",
]

metadata = sa.MetaData()

# Unbounded strings: SQLite ignores lengths anyway, and a length that only PostgreSQL enforces
# would make the two backends disagree about which records are valid.
_ID = sa.String()
_NAME = sa.String()
_STATE = sa.String(16)
#: Surrogate integer keys: BIGINT on PostgreSQL, SQLite's rowid alias elsewhere.
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _payload_columns(prefix: str, *, nullable: bool) -> list[sa.Column[object]]:
    """The columns of one :class:`kitaru.backend.Payload` (all NULL when there is none)."""
    return [
        sa.Column(f"{prefix}_serializer", _NAME, nullable=nullable),
        sa.Column(f"{prefix}_type_ref", sa.Text, nullable=True),
        sa.Column(f"{prefix}_inline", sa.LargeBinary, nullable=True),
        sa.Column(f"{prefix}_uri", sa.Text, nullable=True),
        sa.Column(f"{prefix}_size", sa.BigInteger, nullable=nullable),
        sa.Column(f"{prefix}_sha256", _NAME, nullable=nullable),
    ]


executions = sa.Table(
    "executions",
    metadata,
    sa.Column("exec_id", _ID, primary_key=True),
    sa.Column("flow_name", _NAME, nullable=False),
    sa.Column("source", JSONValue, nullable=False),
    *_payload_columns("inputs", nullable=True),
    sa.Column("spec", JSONValue, nullable=False),
    sa.Column("stack", _NAME, nullable=False),
    sa.Column("state", _STATE, nullable=False),
    sa.Column("status_reason", sa.Text, nullable=True),
    sa.Column("failure", JSONValue, nullable=True),
    sa.Column("result_artifact_id", _ID, nullable=True),
    sa.Column("original_exec_id", _ID, nullable=True),
    sa.Column("replay_plan", JSONValue, nullable=True),
    sa.Column("metadata", JSONValue, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("lease_owner", _NAME, nullable=True),
    sa.Column("lease_host", _NAME, nullable=True),
    sa.Column("lease_pid", sa.Integer, nullable=True),
    sa.Column("lease_heartbeat_at", UTCDateTime, nullable=True),
    sa.Column("lease_expires_at", UTCDateTime, nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    #: When the row last changed (not a record field). Lifecycle writes, heartbeats and
    #: merge_metadata set it; the read fence of checkpoint commits leaves the row alone.
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_executions_created_at", "created_at", "exec_id"),
    sa.Index("ix_executions_flow_name", "flow_name"),
)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("exec_id", _ID, sa.ForeignKey("executions.exec_id"), primary_key=True),
    sa.Column("invocation_id", _NAME, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("call_id", _ID, nullable=False),
    sa.Column("checkpoint_type", _NAME, nullable=True),
    sa.Column("state", _STATE, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("output_artifact_id", _ID, nullable=True),
    sa.Column("cache_key", sa.String(), nullable=True),
    sa.Column("cached_from", sa.Text, nullable=True),
    sa.Column("overridden", sa.Boolean, nullable=False),
    sa.Column("failure", JSONValue, nullable=True),
    sa.Column("metadata", JSONValue, nullable=False),
    sa.Column("parent_invocation_ids", JSONValue, nullable=False),
    sa.Index(
        "ix_calls_cache_key",
        "cache_key",
        sqlite_where=sa.text("cache_key IS NOT NULL"),
        postgresql_where=sa.text("cache_key IS NOT NULL"),
    ),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("exec_id", _ID, sa.ForeignKey("executions.exec_id"), nullable=False),
    sa.Column("attempt_id", _ID, nullable=False),
    sa.Column("invocation_id", _NAME, nullable=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", _STATE, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("failure", JSONValue, nullable=True),
    sa.UniqueConstraint("exec_id", "attempt_id", name="uq_attempts_exec_id_attempt_id"),
)

waits = sa.Table(
    "waits",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("exec_id", _ID, sa.ForeignKey("executions.exec_id"), nullable=False),
    sa.Column("wait_id", _ID, nullable=False),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("schema", JSONValue, nullable=True),
    sa.Column("question", sa.Text, nullable=True),
    sa.Column("metadata", JSONValue, nullable=False),
    sa.Column("state", _STATE, nullable=False),
    sa.Column("value", JSONValue, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("exec_id", "wait_id", name="uq_waits_exec_id_wait_id"),
    sa.UniqueConstraint("exec_id", "name", name="uq_waits_exec_id_name"),
    sa.Index("ix_waits_exec_id", "exec_id", "created_at"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("artifact_id", _ID, nullable=False),
    sa.Column("exec_id", _ID, sa.ForeignKey("executions.exec_id"), nullable=False),
    sa.Column("invocation_id", _NAME, nullable=True),
    sa.Column("name", _NAME, nullable=False),
    *_payload_columns("payload", nullable=False),
    sa.Column("save_type", _NAME, nullable=False),
    sa.Column("kind", _NAME, nullable=True),
    sa.Column("tags", JSONValue, nullable=False),
    sa.Column("metadata", JSONValue, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("artifact_id", name="uq_artifacts_artifact_id"),
    sa.Index("ix_artifacts_exec_id", "exec_id", "created_at"),
)

logs = sa.Table(
    "logs",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("exec_id", _ID, sa.ForeignKey("executions.exec_id"), nullable=False),
    sa.Column("timestamp", UTCDateTime, nullable=False),
    sa.Column("level", _NAME, nullable=False),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("invocation_id", _NAME, nullable=True),
    sa.Column("stream", _NAME, nullable=True),
    sa.Column("module", sa.Text, nullable=True),
    sa.Column("filename", sa.Text, nullable=True),
    sa.Column("lineno", sa.Integer, nullable=True),
    sa.Index("ix_logs_exec_id_id", "exec_id", "id"),
)

#: Named sets of ``KEY=value`` pairs (:class:`kitaru.backend.SecretRecord`), stored as JSON.
#: The journal holds them as it holds everything else: protect the database accordingly.
secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("secret_id", _ID, primary_key=True),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("values", JSONValue, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("name", name="uq_secrets_name"),
)

#: Adapter state (:class:`kitaru.backend.DocumentRecord`): LangGraph checkpoints, agent sessions.
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("namespace", _NAME, primary_key=True),
    sa.Column("key", _NAME, primary_key=True),
    sa.Column("value", JSONValue, nullable=True),
    sa.Column("exec_id", _ID, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
