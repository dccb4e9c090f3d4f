"""Fixtures shared by the cross-package tests: every test gets its own config directory,
journal and artifact folder, and no process-wide state leaks between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kitaru import _config
from kitaru._runtime import Runtime, reset_default_runtime, use_runtime
from kitaru_testing.fixtures import memory_runtime  # noqa: F401 - shared fixture


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    config = tmp_path / "kitaru-config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    for name in (
        "KITARU_STORE_URL",
        "KITARU_ARTIFACT_STORE",
        "KITARU_STACK",
        "KITARU_CACHE",
        "KITARU_RETRIES",
        "KITARU_IMAGE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KITARU_NO_PROMPT", "1")
    monkeypatch.setenv(
        "KITARU_SQLITE_SYNCHRONOUS", os.environ.get("KITARU_SQLITE_SYNCHRONOUS", "NORMAL")
    )
    reset_default_runtime()
    _config.set_configured_layer(_config.ExecutionSettings())
    yield config
    reset_default_runtime()
    _config.set_configured_layer(_config.ExecutionSettings())


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime.from_urls(
        f"sqlite:///{tmp_path / 'journal.db'}", str(tmp_path / "artifacts"), lease_seconds=5
    )
    with use_runtime(runtime):
        yield runtime
    runtime.close()


@pytest.fixture(params=["memory", "sqlite"])
def runtime(request: pytest.FixtureRequest) -> Runtime:
    """Run the test on the in-memory journal and on a real SQLite file."""
    return request.getfixturevalue(f"{request.param}_runtime")  # type: ignore[no-any-return]
