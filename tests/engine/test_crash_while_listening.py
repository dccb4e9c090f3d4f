"""A runner killed (SIGKILL) while it listens for input on a wait: the execution reads
``waiting``, not failed, and the input continues it without a retry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kitaru import FlowHandle, KitaruClient
from kitaru.runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("listen_flow.py")


@pytest.mark.slow
def test_killed_while_listening_stays_waiting(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'journal.db'}"
    artifacts = str(tmp_path / "artifacts")
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(effects)], env=env)
    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            deadline = time.monotonic() + 60
            while not (effects / "exec_id").exists() or not client.executions.pending_waits(
                (effects / "exec_id").read_text()
            ):
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
            exec_id = (effects / "exec_id").read_text()
            assert client.executions.get(exec_id).status.value == "waiting"  # listening
            proc.kill()
            proc.wait(timeout=30)
            lost = client.executions.get(exec_id)
            assert lost.status.value == "waiting", lost
            assert lost.failure is None
            assert [w.name for w in client.executions.pending_waits(exec_id)] == ["approve"]
            client.executions.input(exec_id, wait="approve", value=True)  # starts a worker
            assert FlowHandle(exec_id).wait(timeout=90) == "drafted, approved=True"
    finally:
        if proc.poll() is None:
            proc.kill()
        runtime.close()
    assert (effects / "step").read_text() == "x"  # the checkpoint before the wait ran once
