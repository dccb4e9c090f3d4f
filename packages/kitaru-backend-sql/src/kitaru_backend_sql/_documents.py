"""Documents: JSON state that adapters keep in the journal, keyed by (namespace, key).

Adapters read and write documents at every graph step or agent message (a LangGraph saver
reads a checkpoint, its channel values and its pending writes before each node), so both
directions run prebuilt statements on the DB-API connection (:mod:`._driver`) rather than
through SQLAlchemy's per-execution machinery: the same SQL, the same bind and result
conversions, a fraction of the Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from kitaru.backend import DocumentRecord
from sqlalchemy.engine import Dialect

from kitaru_backend_sql._driver import DriverStatement
from kitaru_backend_sql._errors import translate_errors
from kitaru_backend_sql._journal import SqlJournal
from kitaru_backend_sql._schema import documents

__all__ = ["DocumentOps"]

D = documents

#: The largest code point: ``prefix + _TOP`` bounds every key that starts with ``prefix``.
_TOP = "\U0010ffff"


def _row(document: DocumentRecord) -> dict[str, object]:
    return {
        "namespace": document.namespace,
        "key": document.key,
        "value": document.value,
        "exec_id": document.exec_id,
        "created_at": document.created_at,
    }


class _DocumentReads:
    """The prebuilt document SELECTs of one dialect, and the conversion of their rows.

    ``list_documents`` has sixteen shapes (with or without a prefix, ``start_after`` and
    ``limit``; ascending or descending); each is compiled on first use.
    """

    def __init__(self, dialect: Dialect, binary: Callable[[Any], Any]) -> None:
        self._dialect = dialect
        self._binary = binary
        self.get = DriverStatement(
            sa.select(D).where(
                D.c.namespace == sa.bindparam("namespace"), D.c.key == sa.bindparam("key")
            ),
            dialect,
        )
        self._lists: dict[tuple[bool, bool, bool, bool], DriverStatement] = {}
        columns = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in D.c]
        self._value = columns[2]
        self._created = columns[4]

    def listing(
        self, *, prefix: bool, start_after: bool, limit: bool, descending: bool
    ) -> DriverStatement:
        shape = (prefix, start_after, limit, descending)
        statement = self._lists.get(shape)
        if statement is None:
            key = self._binary(D.c.key)
            query = sa.select(D).where(D.c.namespace == sa.bindparam("namespace"))
            if prefix:
                # A key range lets the primary key index serve the lookup; the substr test
                # keeps it exact. No LIKE: '%' and '_' in keys are plain characters.
                query = query.where(
                    key >= sa.bindparam("low"),
                    key <= sa.bindparam("high"),
                    sa.func.substr(D.c.key, 1, sa.bindparam("length", type_=sa.Integer))
                    == sa.bindparam("prefix"),
                )
            if start_after:
                after: sa.BindParameter[str] = sa.bindparam("start_after")
                query = query.where(key < after if descending else key > after)
            query = query.order_by(key.desc() if descending else key)
            if limit:
                query = query.limit(sa.bindparam("limit", type_=sa.Integer))
            statement = self._lists[shape] = DriverStatement(query, self._dialect)
        return statement

    def record(self, row: Sequence[Any]) -> DocumentRecord:
        namespace, key, value, exec_id, created = row
        created_at: Any = self._created(created) if self._created is not None else created
        return DocumentRecord(
            namespace=namespace,
            key=key,
            value=self._value(value) if self._value is not None else value,
            exec_id=exec_id,
            created_at=created_at,
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

    # -- reads on the driver connection ----------------------------------------------------

    @property
    def _document_reads(self) -> _DocumentReads:
        reads: _DocumentReads | None = self.__dict__.get("_document_reads_cache")
        if reads is None:
            reads = _DocumentReads(self._engine.dialect, self._binary)
            self.__dict__["_document_reads_cache"] = reads
        return reads

    @contextmanager
    def _driver_read(self) -> Iterator[Any]:
        """A DB-API cursor for one SELECT: on SQLite (autocommit) the statement is its own
        snapshot; on PostgreSQL the pool rolls the implicit transaction back on return."""
        self._ensure_ready()
        with translate_errors(self._url, self._dbapi_error):
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    yield cursor
                finally:
                    cursor.close()
            finally:
                connection.close()  # back to the pool (reset on return)

    def _select(self, statement: DriverStatement, values: dict[str, Any]) -> list[DocumentRecord]:
        params = statement.bind(values)
        with self._driver_read() as cursor:
            cursor.execute(statement.sql, params)
            rows = cursor.fetchall()
        record = self._document_reads.record
        return [record(row) for row in rows]

    def get_document(self, namespace: str, key: str) -> DocumentRecord | None:
        found = self._select(self._document_reads.get, {"namespace": namespace, "key": key})
        return found[0] if found else None

    def list_documents(
        self,
        namespace: str,
        *,
        prefix: str = "",
        start_after: str | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> list[DocumentRecord]:
        statement = self._document_reads.listing(
            prefix=bool(prefix),
            start_after=start_after is not None,
            limit=limit is not None,
            descending=descending,
        )
        values: dict[str, Any] = {"namespace": namespace}
        if prefix:
            values.update(low=prefix, high=prefix + _TOP, length=len(prefix), prefix=prefix)
        if start_after is not None:
            values["start_after"] = start_after
        if limit is not None:
            values["limit"] = limit
        return self._select(statement, values)

    def _prefixed(self, namespace: str, prefix: str) -> sa.ColumnElement[bool]:
        condition = D.c.namespace == namespace
        if prefix:
            key = self._binary(D.c.key)
            condition = sa.and_(
                condition,
                key >= prefix,
                key <= prefix + _TOP,
                sa.func.substr(D.c.key, 1, len(prefix)) == prefix,
            )
        return condition

    def delete_documents(self, namespace: str, *, prefix: str = "") -> int:
        with self._write() as connection:
            result = connection.execute(sa.delete(D).where(self._prefixed(namespace, prefix)))
        return int(result.rowcount or 0)
