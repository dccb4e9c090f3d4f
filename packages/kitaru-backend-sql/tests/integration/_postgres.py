"""Throwaway PostgreSQL databases for tests, from ``KITARU_TEST_POSTGRES_URL``.

``scripts/postgres`` starts a server and prints the variable. Without it the tests skip,
unless ``CI`` is set: then they fail, so a CI job never passes by testing nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

URL_ENV = "KITARU_TEST_POSTGRES_URL"


def postgres_url_or_skip() -> sa.URL:
    """The admin URL, or skip (fail on CI) when it is not configured."""
    raw = os.environ.get(URL_ENV, "").strip()
    if not raw:
        if os.environ.get("CI"):
            pytest.fail(
                f"CI is set but {URL_ENV} is not: start a server with scripts/postgres and "
                "export the URL it prints.",
                pytrace=False,
            )
        pytest.skip(f"{URL_ENV} is not set (start one with scripts/postgres)")
    url = sa.make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


@contextmanager
def admin_engine(url: sa.URL) -> Iterator[sa.Engine]:
    """An AUTOCOMMIT engine for CREATE/DROP DATABASE."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def create_database(engine: sa.Engine, *, template: str | None = None) -> str:
    """Create a uniquely named database (optionally a copy of ``template``); return its name."""
    name = f"kitaru_test_{uuid.uuid4().hex[:16]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
    return name


def drop_database(engine: sa.Engine, name: str) -> None:
    """Drop a test database, disconnecting anything still attached."""
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
