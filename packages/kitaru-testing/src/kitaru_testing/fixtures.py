"""Pytest fixtures for testing Kitaru and its plugins: import the ones you need into your
``conftest.py`` (``from kitaru_testing.fixtures import memory_runtime, wait_for_status``)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru.artifacts import LocalArtifactStore
from kitaru.plugins import reset_plugin_manager
from kitaru.runtime import Runtime, reset_default_runtime, use_runtime
from kitaru.testing import MemoryBackend

__all__ = [
    "KITARU_ENV_VARS",
    "isolated_kitaru",
    "memory_runtime",
    "poll_status",
    "sqlite_urls",
    "wait_for_status",
]

#: The environment variables that choose Kitaru's journal, settings and plugins: a test that
#: inherited them from the developer's shell would not be isolated.
KITARU_ENV_VARS = (
    "KITARU_STORE_URL",
    "KITARU_ARTIFACT_STORE",
    "KITARU_STACK",
    "KITARU_CACHE",
    "KITARU_RETRIES",
    "KITARU_IMAGE",
    "KITARU_LOAD_PLUGINS",
    "KITARU_DISABLE_PLUGIN_AUTOLOAD",
)


@contextlib.contextmanager
def isolated_kitaru(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, unset: Iterable[str] = ()
) -> Iterator[Path]:
    """A config directory of the test's own (yielded), none of :data:`KITARU_ENV_VARS` (nor
    ``unset``), no inline prompts, SQLite ``synchronous=NORMAL`` unless the caller chose, and
    a fresh default runtime and plugin manager before and after. For an autouse fixture::

        @pytest.fixture(autouse=True)
        def isolated_config(tmp_path, monkeypatch):
            with isolated_kitaru(tmp_path, monkeypatch) as config:
                yield config
    """
    config = tmp_path / "kitaru-config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    for name in (*KITARU_ENV_VARS, *unset):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KITARU_NO_PROMPT", "1")
    monkeypatch.setenv(
        "KITARU_SQLITE_SYNCHRONOUS", os.environ.get("KITARU_SQLITE_SYNCHRONOUS", "NORMAL")
    )
    reset_default_runtime()
    reset_plugin_manager()
    try:
        yield config
    finally:
        reset_default_runtime()
        reset_plugin_manager()


@pytest.fixture
def memory_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """The in-memory journal in scope (continuations run on threads of this process)."""
    runtime = Runtime(
        backend=MemoryBackend(),
        artifact_store=LocalArtifactStore(tmp_path / "artifacts"),
        lease_seconds=5,
    )
    with use_runtime(runtime):
        yield runtime


@pytest.fixture
def sqlite_urls(tmp_path: Path) -> tuple[str, str]:
    """``(journal URL, artifact folder)`` of a fresh SQLite journal under ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'journal.db'}", str(tmp_path / "artifacts")


def poll_status(exec_id: str, status: str, timeout: float = 30) -> None:
    """Poll the execution until it reads ``status`` (AssertionError after ``timeout`` s)."""
    client = KitaruClient()
    deadline = time.monotonic() + timeout
    while (current := client.executions.get(exec_id).status.value) != status:
        assert time.monotonic() < deadline, f"execution is {current}, expected {status}"
        time.sleep(0.02)


@pytest.fixture
def wait_for_status() -> Callable[..., None]:
    """``wait_for_status(exec_id, "waiting")``: poll the execution until it reads a status."""
    return poll_status
