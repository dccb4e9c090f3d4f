"""``SqliteReader`` (reads with ``sqlite3``, everything else through ``SqlBackend``) passes
the backend conformance suite on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kitaru_backend_sql import SqlBackend, SqliteReader
from kitaru_testing import BackendConformance


class TestSqliteReaderConformance(BackendConformance):
    """One fresh journal per test, created at head first so that reads take the fast path."""

    @pytest.fixture
    def backend_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'journal' / 'kitaru.db'}"

    @pytest.fixture
    def backend(self, backend_url: str) -> Iterator[SqliteReader]:
        creator = SqlBackend(backend_url)
        assert creator.list_executions() == []  # creates and migrates the file
        creator.close()
        reader = SqliteReader(backend_url)
        assert reader.uses_sqlite3
        yield reader
        reader.close()
