"""A real crash: the agent run is SIGKILLed in a subprocess on a SQLite journal; ``retry``
continues it in a worker process, which replays the journaled messages and resumes the same
Claude session from the transcript kept in the journal (counted through side-effect files)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru.runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("cas_crash_flow.py")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.slow
def test_killed_agent_run_resumes_its_session(
    tmp_path: Path, wait_for_status: Callable[..., None]
) -> None:
    store, artifacts = f"sqlite:///{tmp_path / 'journal.db'}", str(tmp_path / "artifacts")
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(effects)], env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()[-3000:]
    exec_id = (effects / "exec_id").read_text()
    assert _lines(effects / "tools") == ["make"]

    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            assert client.executions.get(exec_id).status.value == "failed"
            client.executions.retry(exec_id)  # continues in a detached worker process
            wait_for_status(exec_id, "completed", timeout=90)
            (call,) = client.executions.get(exec_id).checkpoints
            (run,) = call.metadata["claude_agent_sdk_runs"].values()
            assert run["status"] == "completed" and run["replayed_messages"] == 3
            uses = [e for e in run["events"] if e["type"] == "tool_use"]
            # The interrupted tool use had no result: the resumed session asks for it again.
            assert [(u["input"]["command"], u["replayed"]) for u in uses] == [
                ("make", True),
                ("make test", True),
                ("make test", False),
            ]
    finally:
        runtime.close()
    assert _lines(effects / "sessions") == ["new", "resume"]
    assert _lines(effects / "tools") == ["make", "make test"]  # make did not run again
