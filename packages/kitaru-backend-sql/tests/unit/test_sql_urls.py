"""Journal URLs: validation, driver defaults, password masking, error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from kitaru.backend import Capability
from kitaru.errors import KitaruBackendError, KitaruUsageError
from kitaru_backend_sql import PostgresSqlBackend, SqlBackend, mask_url
from kitaru_backend_sql._url import parse_url


def test_mask_url_hides_the_password() -> None:
    masked = mask_url("postgresql+psycopg://kitaru:s3cr%40t@db.example:5432/journal")
    assert masked == "postgresql+psycopg://kitaru:***@db.example:5432/journal"
    assert "s3cr" not in masked


def test_mask_url_without_password_is_unchanged() -> None:
    assert mask_url("sqlite:////var/lib/kitaru.db") == "sqlite:////var/lib/kitaru.db"
    assert mask_url("not a url") == "<unparseable url>"


def test_postgresql_defaults_to_psycopg() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(KitaruUsageError, match="memory://"):
        SqlBackend(url)


def test_other_databases_are_refused() -> None:
    with pytest.raises(KitaruUsageError, match="sqlite:// and postgresql://"):
        SqlBackend("mysql://u:pw@h/db")


def test_capabilities_follow_the_url() -> None:
    sqlite_backend = SqlBackend("sqlite:///unused.db")
    pg_backend = SqlBackend("postgresql://u:pw@127.0.0.1:1/db")  # no I/O until first use
    assert type(sqlite_backend) is SqlBackend
    assert sqlite_backend.capabilities == {Capability.CROSS_PROCESS}
    assert isinstance(pg_backend, PostgresSqlBackend)
    assert pg_backend.capabilities == {Capability.CROSS_PROCESS, Capability.CROSS_HOST}
    assert repr(pg_backend) == "PostgresSqlBackend('postgresql+psycopg://u:***@127.0.0.1:1/db')"
    assert pg_backend.url == "postgresql+psycopg://u:***@127.0.0.1:1/db"


def test_database_errors_name_the_journal(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder-not-a-file"
    folder.mkdir()
    backend = SqlBackend(f"sqlite:///{folder}")
    with pytest.raises(KitaruBackendError) as info:
        backend.list_executions()
    assert f"The journal at sqlite:///{folder} failed: OperationalError" in str(info.value)
    backend.close()
