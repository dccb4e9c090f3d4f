"""``SqliteReader`` reads every column of the journal tables it serves, in schema order, and
converts exactly the JSON and datetime columns (as the SQLAlchemy column types do)."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from kitaru.backend import ExecutionRecord
from kitaru_backend_sql import _fastread, _schema
from kitaru_backend_sql._types import JSONValue, UTCDateTime


def _kinds(table: sa.Table) -> tuple[tuple[str, str | None], ...]:
    """What the reader must read of ``table``: all columns but the surrogate ``id`` and the
    bookkeeping ``updated_at`` (no record field), with the conversion each needs."""
    return tuple(
        (
            column.name,
            "json"
            if isinstance(column.type, JSONValue)
            else "time"
            if isinstance(column.type, UTCDateTime)
            else None,
        )
        for column in table.c
        if column.name not in ("id", "updated_at")
    )


@pytest.mark.parametrize(
    ("columns", "table"),
    [
        (_fastread._EXECUTIONS, _schema.executions),
        (_fastread._CALLS, _schema.calls),
        (_fastread._ATTEMPTS, _schema.attempts),
        (_fastread._WAITS, _schema.waits),
        (_fastread._ARTIFACTS, _schema.artifacts),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_columns_match_the_schema(
    columns: tuple[tuple[str, str | None], ...], table: sa.Table
) -> None:
    assert columns == _kinds(table)


def test_execution_decoding_knows_every_record_field() -> None:
    fields = {f.name for f in dataclasses.fields(ExecutionRecord)}
    assert set(_fastread._EXECUTION_FIELDS) == fields
