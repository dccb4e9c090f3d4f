"""Fixtures for the Claude Agent SDK adapter tests: an isolated Kitaru config and Claude config
directory per test, no model credentials, and the in-memory runtime (continuations run on
threads of this process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kitaru.plugins import reset_plugin_manager
from kitaru.runtime import reset_default_runtime
from kitaru_testing.fixtures import (  # noqa: F401 - fixtures shared by the adapters
    memory_runtime,
    sqlite_urls,
    wait_for_status,
)

ENV_VARS = (
    "KITARU_STORE_URL",
    "KITARU_ARTIFACT_STORE",
    "KITARU_STACK",
    "KITARU_CACHE",
    "KITARU_RETRIES",
    "KITARU_IMAGE",
    "KITARU_LOAD_PLUGINS",
    "KITARU_DISABLE_PLUGIN_AUTOLOAD",
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
    config = tmp_path / "kitaru-config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KITARU_NO_PROMPT", "1")
    reset_default_runtime()
    reset_plugin_manager()
    yield config
    reset_default_runtime()
    reset_plugin_manager()
