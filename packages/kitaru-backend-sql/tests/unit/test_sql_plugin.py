"""The distribution's entry point registers the sqlite and postgresql schemes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kitaru.plugins import build_plugin_manager, collect, list_plugins
from kitaru_backend_sql import PostgresSqlBackend, SqlBackend


@pytest.fixture(autouse=True)
def _autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KITARU_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("KITARU_LOAD_PLUGINS", raising=False)


def test_backends_are_registered_through_the_entry_point(tmp_path: Path) -> None:
    pm = build_plugin_manager()
    backends = collect("kitaru_register_backends", pm=pm, what="backend")
    assert {"sqlite", "postgresql", "memory"} <= set(backends)
    backend = backends["sqlite"](f"sqlite:///{tmp_path / 'kitaru.db'}")
    assert type(backend) is SqlBackend
    assert backend.list_executions() == []
    backend.close()
    assert isinstance(backends["postgresql"]("postgresql://u@127.0.0.1:1/db"), PostgresSqlBackend)


def test_the_plugin_is_listed_with_its_distribution() -> None:
    [info] = [p for p in list_plugins(build_plugin_manager()) if p.name == "sql"]
    assert info.distribution == "kitaru-backend-sql"
    assert info.hooks == ("kitaru_register_backends", "kitaru_register_journal_readers")


def test_loading_the_plugin_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    """SQLAlchemy and Alembic are imported when a journal is opened, not when the plugin is
    loaded (every ``kitaru`` command and worker loads the plugins)."""
    script = f"""
import sys
from kitaru.plugins import build_plugin_manager, collect
backends = collect("kitaru_register_backends", pm=build_plugin_manager(), what="backend")
heavy = sorted(m for m in ("sqlalchemy", "alembic") if m in sys.modules)
assert heavy == [], heavy
backend = backends["sqlite"]({str(tmp_path / "kitaru.db")!r}.join(["sqlite:///", ""]))
assert backend.list_executions() == []
assert "sqlalchemy" in sys.modules
"""
    env = {**os.environ, "KITARU_LOAD_PLUGINS": "sql"}
    env.pop("KITARU_DISABLE_PLUGIN_AUTOLOAD", None)
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
