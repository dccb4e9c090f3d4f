"""``SqlBackend`` on a real SQLite file passes the backend conformance suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kitaru_backend_sql import SqlBackend
from kitaru_testing import BackendConformance


class TestSqliteConformance(BackendConformance):
    """One fresh journal file per test (migrated on first use)."""

    @pytest.fixture
    def backend_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'journal' / 'kitaru.db'}"

    @pytest.fixture
    def backend(self, backend_url: str) -> Iterator[SqlBackend]:
        backend = SqlBackend(backend_url)
        yield backend
        backend.close()
