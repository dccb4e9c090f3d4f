"""Fixtures for the Claude Agent SDK adapter tests: an isolated Kitaru config and Claude config
directory per test, no model credentials, and the in-memory runtime (continuations run on
threads of this process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru.artifacts import LocalArtifactStore
from kitaru.plugins import reset_plugin_manager
from kitaru.runtime import Runtime, reset_default_runtime, use_runtime
from kitaru.testing import MemoryBackend

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


@pytest.fixture
def memory_runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(
        backend=MemoryBackend(),
        artifact_store=LocalArtifactStore(str(tmp_path / "artifacts")),
        lease_seconds=5,
    )
    with use_runtime(runtime):
        yield runtime


def _wait_for_status(exec_id: str, status: str, timeout: float = 30) -> None:
    client = KitaruClient()
    deadline = time.monotonic() + timeout
    while (current := client.executions.get(exec_id).status.value) != status:
        assert time.monotonic() < deadline, f"execution is {current}, expected {status}"
        time.sleep(0.02)


@pytest.fixture
def wait_for_status() -> Callable[..., None]:
    """``wait_for_status(exec_id, "waiting")``: poll the execution until it reads a status."""
    return _wait_for_status
