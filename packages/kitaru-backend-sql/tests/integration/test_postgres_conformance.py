"""``SqlBackend`` on PostgreSQL passes the backend conformance suite.

Each test gets its own database, copied from a template database that was migrated once per
module, so every test starts from a fresh, empty, fully migrated journal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from _postgres import admin_engine, create_database, drop_database, postgres_url_or_skip
from kitaru.backend import Capability
from kitaru_backend_sql import PostgresSqlBackend, SqlBackend
from kitaru_testing import BackendConformance

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_admin() -> Iterator[tuple[sa.URL, sa.Engine]]:
    url = postgres_url_or_skip()
    with admin_engine(url) as engine:
        yield url, engine


@pytest.fixture(scope="module")
def migrated_template(postgres_admin: tuple[sa.URL, sa.Engine]) -> Iterator[str]:
    url, engine = postgres_admin
    name = create_database(engine)
    backend = SqlBackend(url.set(database=name))
    try:
        backend.list_executions()  # first use runs the migrations
    finally:
        backend.close()
    yield name
    drop_database(engine, name)


class TestPostgresConformance(BackendConformance):
    """One fresh database per test."""

    @pytest.fixture
    def backend_url(
        self, postgres_admin: tuple[sa.URL, sa.Engine], migrated_template: str
    ) -> Iterator[str]:
        url, engine = postgres_admin
        name = create_database(engine, template=migrated_template)
        yield url.set(database=name).render_as_string(hide_password=False)
        drop_database(engine, name)

    @pytest.fixture
    def backend(self, backend_url: str) -> Iterator[SqlBackend]:
        backend = SqlBackend(backend_url)
        assert isinstance(backend, PostgresSqlBackend)
        assert Capability.CROSS_HOST in backend.capabilities
        yield backend
        backend.close()
