"""Fixtures for the CLI tests: an isolated config directory per test, the in-memory runtime
for fast CliRunner tests, and helpers to run the real ``kitaru`` console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kitaru.plugins import reset_plugin_manager
from kitaru.runtime import reset_default_runtime
from kitaru_testing.fixtures import memory_runtime  # noqa: F401 - shared fixture
from typer.testing import CliRunner

KITARU = Path(sys.executable).with_name("kitaru")
ENV_VARS = (
    "KITARU_STORE_URL",
    "KITARU_ARTIFACT_STORE",
    "KITARU_STACK",
    "KITARU_CACHE",
    "KITARU_RETRIES",
    "KITARU_IMAGE",
    "KITARU_LOAD_PLUGINS",
    "KITARU_DISABLE_PLUGIN_AUTOLOAD",
    "KITARU_TRACE_PLUGINS",
)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    config = tmp_path / "kitaru-config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KITARU_NO_PROMPT", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    reset_default_runtime()
    reset_plugin_manager()
    yield config
    reset_default_runtime()
    reset_plugin_manager()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        assert self.stdout == "", self.stdout
        return json.loads(self.stderr)["error"]  # type: ignore[no-any-return]


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke the Typer app in this process (``CliRunner``)."""
    from kitaru_cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        outcome = runner.invoke(app, list(args), input=input)
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            raise outcome.exception
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    return invoke


@pytest.fixture
def kitaru_exe(isolated_config: Path, tmp_path: Path) -> Callable[..., Result]:
    """Run the real ``kitaru`` console script in a subprocess (cwd: the test's tmp dir)."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["KITARU_CONFIG_PATH"] = str(isolated_config)
    # Only the SQL backend's plugin: other kitaru plugins installed in the same environment
    # (possibly half-built in a checkout) must not decide whether the CLI's tests pass.
    env["KITARU_LOAD_PLUGINS"] = "sql"
    env.pop("PYTEST_CURRENT_TEST", None)

    def run(*args: str, timeout: float = 60) -> Result:
        done = subprocess.run(
            [str(KITARU), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    run.env = env  # type: ignore[attr-defined]
    return run
