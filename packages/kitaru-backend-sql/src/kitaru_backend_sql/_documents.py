"""Documents: JSON state that adapters keep in the journal, keyed by (namespace, key)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from kitaru.backend import DocumentRecord

from kitaru_backend_sql._journal import SqlJournal
from kitaru_backend_sql._schema import documents

__all__ = ["DocumentOps"]

D = documents


def _row(document: DocumentRecord) -> dict[str, object]:
    return {
        "namespace": document.namespace,
        "key": document.key,
        "value": document.value,
        "exec_id": document.exec_id,
        "created_at": document.created_at,
    }


def _record(row: sa.RowMapping) -> DocumentRecord:
    return DocumentRecord(
        namespace=row["namespace"],
        key=row["key"],
        value=row["value"],
        exec_id=row["exec_id"],
        created_at=row["created_at"],
    )


class DocumentOps(SqlJournal):
    """put_documents, get_document, list_documents, delete_documents."""

    def put_documents(
        self,
        documents: Sequence[DocumentRecord],
        *,
        exec_id: str | None = None,
        epoch: int | None = None,
    ) -> None:
        """Upsert the documents in one transaction (fenced when ``exec_id``/``epoch`` given)."""
        if not documents and exec_id is None:
            return
        # The prebuilt upsert on the driver connection (like the checkpoint commit): adapters
        # write a document batch per graph step or agent message.
        statement = self._sql.raw_upsert_documents
        params = self._bind(statement, [_row(d) for d in documents])
        with self._driver_write() as cursor:
            if exec_id is not None and epoch is not None:
                self._driver_fence(cursor, exec_id, epoch)
            if params:
                cursor.executemany(statement.sql, params)

    def get_document(self, namespace: str, key: str) -> DocumentRecord | None:
        query = sa.select(D).where(D.c.namespace == namespace, D.c.key == key)
        with self._read() as connection:
            row = connection.execute(query).mappings().first()
        return _record(row) if row is not None else None

    def _prefixed(self, namespace: str, prefix: str) -> sa.ColumnElement[bool]:
        condition = D.c.namespace == namespace
        if prefix:
            # A key range lets the primary key index serve the lookup; the substr test keeps
            # it exact. No LIKE: '%' and '_' in keys are plain characters.
            key = self._binary(D.c.key)
            condition = sa.and_(
                condition,
                key >= prefix,
                key <= prefix + "\U0010ffff",
                sa.func.substr(D.c.key, 1, len(prefix)) == prefix,
            )
        return condition

    def list_documents(
        self,
        namespace: str,
        *,
        prefix: str = "",
        start_after: str | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> list[DocumentRecord]:
        key = self._binary(D.c.key)
        query = sa.select(D).where(self._prefixed(namespace, prefix))
        if start_after is not None:
            query = query.where(key < start_after if descending else key > start_after)
        query = query.order_by(key.desc() if descending else key)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def delete_documents(self, namespace: str, *, prefix: str = "") -> int:
        with self._write() as connection:
            result = connection.execute(sa.delete(D).where(self._prefixed(namespace, prefix)))
        return int(result.rowcount or 0)
