"""Column types that make rows round-trip to records exactly on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = ["JSONValue", "UTCDateTime"]


class JSONValue(sa.types.TypeDecorator[Any]):
    """A JSON column (JSONB on PostgreSQL)."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.JSON(none_as_null=True))


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones, so the value is stored as
    naive UTC text and made aware again when read. Naive datetimes are refused on the way in:
    every timestamp Kitaru stores is aware.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Kitaru stores timezone-aware datetimes only, got naive {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function that does :meth:`process_bind_param` and then writes the
        text SQLAlchemy's SQLite ``DATETIME`` writes (``YYYY-MM-DD HH:MM:SS.ffffff``), with
        ``datetime.isoformat`` (C) instead of Python string formatting: every checkpoint
        commit binds five of these."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        check = self.process_bind_param

        def process(value: datetime | None) -> str | None:
            naive = check(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
