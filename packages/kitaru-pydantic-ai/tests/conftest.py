"""Fixtures for the PydanticAI adapter tests: an isolated config directory per test, the
in-memory runtime (continuations on threads of this process) and a SQLite runtime."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from kitaru_testing.fixtures import (  # noqa: F401 - fixtures shared by the adapters
    isolated_kitaru,
    memory_runtime,
    sqlite_urls,
    wait_for_status,
)
from pydantic_ai import models

# No test may reach a real model provider.
models.ALLOW_MODEL_REQUESTS = False


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with isolated_kitaru(tmp_path, monkeypatch) as config:
        yield config
    _close_main_thread_loop()


def _close_main_thread_loop() -> None:
    """``Agent.run_sync()`` outside a flow leaves its event loop set on the calling thread (that
    is PydanticAI's behaviour, kept by the wrapper); close it so no test leaks it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # none set on this thread
            return
    if not loop.is_running() and not loop.is_closed():
        loop.close()
    asyncio.set_event_loop(None)
