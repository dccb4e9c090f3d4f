"""A continuation worker that dies before it takes its execution (here: SIGKILL while it
imports the flow's script) must not leave the execution ``running`` for ever: the next read
finds the worker gone and fails the execution (runner lost), and ``retry`` continues it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kitaru import FlowHandle, KitaruClient
from kitaru.runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("unstarted_flow.py")


@pytest.mark.slow
def test_a_worker_that_dies_before_starting_fails_the_execution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'journal.db'}"
    artifacts = str(tmp_path / "artifacts")
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(tmp_path / "config"))  # worker claims go here
    monkeypatch.setenv("UNSTARTED_DIR", str(tmp_path))
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        env=env,
        capture_output=True,
        timeout=120,
        cwd=SCRIPT.parent,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    exec_id = (tmp_path / "exec_id").read_text()
    (tmp_path / "die").touch()
    runtime = Runtime.from_urls(store, artifacts, lease_seconds=30)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            assert client.executions.get(exec_id).status.value == "waiting"
            client.executions.input(exec_id, wait="go", value="now")  # spawns the worker
            deadline = time.monotonic() + 60
            while (execution := client.executions.get(exec_id)).status.value != "failed":
                assert time.monotonic() < deadline, execution.status
                time.sleep(0.1)
            assert execution.failure is not None
            assert "exited before it started the execution" in execution.failure.message
            assert execution.failure.origin.value == "runtime"
            (tmp_path / "die").unlink()
            client.executions.retry(exec_id)
            assert FlowHandle(exec_id).wait(timeout=60) == "went: now"
    finally:
        runtime.close()
