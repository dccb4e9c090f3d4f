"""Fixtures for the Claude Agent SDK adapter tests: an isolated Kitaru config and Claude config
directory per test, no model credentials, and the in-memory runtime (continuations run on
threads of this process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kitaru_testing.fixtures import (  # noqa: F401 - fixtures shared by the adapters
    isolated_kitaru,
    memory_runtime,
    sqlite_urls,
    wait_for_status,
)

#: What the Claude CLI reads: no test may use the developer's own credentials or settings.
CLAUDE_ENV_VARS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    with isolated_kitaru(tmp_path, monkeypatch, unset=CLAUDE_ENV_VARS) as config:
        yield config
