"""Secrets: named sets of ``KEY=value`` pairs in the journal."""

from __future__ import annotations

import sqlalchemy as sa
from kitaru.backend import NotFoundError, SecretRecord

from kitaru_backend_sql import _codec as codec
from kitaru_backend_sql._journal import SqlJournal, first
from kitaru_backend_sql._schema import secrets

__all__ = ["SecretOps"]

S = secrets


class SecretOps(SqlJournal):
    """put_secret, get_secret, list_secrets, delete_secret."""

    def put_secret(self, secret: SecretRecord) -> SecretRecord:
        """Create the secret, or replace the values (and ``updated_at``) of the one with the
        same name, keeping its ``secret_id`` and ``created_at``: one upsert."""
        values = codec.secret_values(secret)
        insert = self._insert(S).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=[S.c.name],
            set_={"values": insert.excluded["values"], "updated_at": insert.excluded.updated_at},
        ).returning(*S.c)
        with self._write() as connection:
            row = first(connection, statement)
        assert row is not None  # an upsert always returns its row
        return codec.secret_from_row(row)

    def get_secret(self, name_or_id: str) -> SecretRecord:
        """The secret with this id, else this name; :class:`NotFoundError` if neither."""
        with self._read() as connection:
            row = _find(connection, name_or_id)
        return codec.secret_from_row(row)

    def list_secrets(self) -> list[SecretRecord]:
        """Every secret, sorted by name."""
        with self._read() as connection:
            rows = connection.execute(sa.select(S).order_by(self._binary(S.c.name))).mappings()
            return [codec.secret_from_row(row) for row in rows]

    def delete_secret(self, name_or_id: str) -> SecretRecord:
        """Delete and return the secret with this id, else this name."""
        with self._write() as connection:
            row = _find(connection, name_or_id)
            connection.execute(sa.delete(S).where(S.c.secret_id == row["secret_id"]))
        return codec.secret_from_row(row)


def _find(connection: sa.Connection, name_or_id: str) -> sa.RowMapping:
    """The row with ``secret_id == name_or_id``, else ``name == name_or_id``."""
    for column in (S.c.secret_id, S.c.name):
        row = first(connection, sa.select(S).where(column == name_or_id))
        if row is not None:
            return row
    raise NotFoundError(f"Secret '{name_or_id}' was not found.")
