"""Real crash tests: a subprocess running a six-checkpoint flow on a SQLite journal is killed
with SIGKILL just before and just after each checkpoint's commit. Afterwards the execution
reads failed (origin runtime), retry completes it, and no completed checkpoint ran twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru._runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("crash_flow.py")


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("n", range(1, 7))
def test_kill_at_checkpoint_boundary_then_retry(tmp_path: Path, when: str, n: int) -> None:
    store = f"sqlite:///{tmp_path / 'journal.db'}"
    artifacts = str(tmp_path / "artifacts")
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(
        os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts, KILL_AT=f"{when}:{n}"
    )
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(effects)], env=env, capture_output=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr.decode()
    exec_id = (effects / "exec_id").read_text()

    os.environ["KILL_AT"] = f"{when}:{n}"  # the retry worker inherits it (and must not die)
    try:
        runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
        with use_runtime(runtime):
            client = KitaruClient()
            lost = client.executions.get(exec_id)
            assert lost.status.value == "failed"
            assert lost.failure is not None and lost.failure.origin.value == "runtime"
            assert "Runner lost" in lost.failure.message
            committed = n if when == "after" else n - 1
            assert len(lost.checkpoints) == committed
            client.executions.retry(exec_id)
            deadline = time.monotonic() + 60
            while client.executions.get(exec_id).status.value != "completed":
                assert time.monotonic() < deadline, client.executions.get(exec_id)
                time.sleep(0.05)
            done = client.executions.get(exec_id)
            assert [c.invocation_id for c in done.checkpoints] == ["step"] + [
                f"step_{i}" for i in range(2, 7)
            ]
        runtime.close()
    finally:
        del os.environ["KILL_AT"]
    runs = {i: len((effects / f"step{i}").read_text()) for i in range(1, 7)}
    # Completed checkpoints never run again; the one killed before its commit runs once more.
    expected = {i: 1 for i in range(1, 7)}
    if when == "before":
        expected[n] = 2
    assert runs == expected
