"""Pytest fixtures for testing Kitaru and its plugins: import the ones you need into your
``conftest.py`` (``from kitaru_testing.fixtures import memory_runtime, wait_for_status``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru.artifacts import LocalArtifactStore
from kitaru.runtime import Runtime, use_runtime
from kitaru.testing import MemoryBackend

__all__ = ["memory_runtime", "poll_status", "sqlite_urls", "wait_for_status"]


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
