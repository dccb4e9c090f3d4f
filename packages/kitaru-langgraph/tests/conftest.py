"""Fixtures for the LangGraph adapter tests: an isolated config directory per test, runtimes on
memory, SQLite and (with ``KITARU_TEST_POSTGRES_URL``) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kitaru.artifacts import LocalArtifactStore
from kitaru.runtime import Runtime
from kitaru.testing import MemoryBackend
from kitaru_testing.fixtures import (  # noqa: F401 - fixtures shared by the adapters
    isolated_kitaru,
    memory_runtime,
    sqlite_urls,
    wait_for_status,
)

PG_ENV = "KITARU_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with isolated_kitaru(tmp_path, monkeypatch) as config:
        yield config


def postgres_url_or_skip() -> str:
    raw = os.environ.get(PG_ENV, "").strip()
    if not raw:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {PG_ENV} is not", pytrace=False)
        pytest.skip(f"{PG_ENV} is not set (start one with scripts/postgres)")
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def make_runtime(kind: str, tmp_path: Path) -> Runtime:
    artifacts = str(tmp_path / f"artifacts-{uuid.uuid4().hex[:8]}")
    if kind == "memory":
        return Runtime(backend=MemoryBackend(), artifact_store=LocalArtifactStore(artifacts))
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'journal-{uuid.uuid4().hex[:8]}.db'}"
    else:
        url = postgres_url_or_skip()
    return Runtime.from_urls(url, artifacts)


@pytest.fixture
def runtime_factory(tmp_path: Path) -> Callable[[str], Runtime]:
    """``runtime_factory("memory" | "sqlite" | "postgres")``: a fresh runtime (skips without
    PostgreSQL)."""
    return lambda kind: make_runtime(kind, tmp_path)
