"""A real crash: a five-node graph is SIGKILLed inside its third node on a SQLite journal;
``retry`` continues it in a worker process and the first two nodes do not run again (counted
through a side-effect file)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru.runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("lg_crash_flow.py")


@pytest.mark.slow
def test_killed_graph_resumes_without_rerunning_completed_nodes(
    tmp_path: Path, sqlite_urls: tuple[str, str], wait_for_status: Callable[..., None]
) -> None:
    store, artifacts = sqlite_urls
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(effects)], env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()[-3000:]
    exec_id = (effects / "exec_id").read_text()
    assert (effects / "runs").read_text().split() == ["n1", "n2", "n3"]

    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            assert client.executions.get(exec_id).status.value == "failed"
            client.executions.retry(exec_id)  # continues in a detached worker process
            wait_for_status(exec_id, "completed", timeout=90)
            done = client.executions.get(exec_id)
            calls = [(c.invocation_id, c.checkpoint_type) for c in done.checkpoints]
            assert calls == [(f"n{i}", "graph_node") for i in range(1, 6)]
            result = [a for a in done.artifacts if a.save_type == "flow_output"]
            assert result[0].load() == ["n1", "n2", "n3", "n4", "n5"]
    finally:
        runtime.close()
    # n1 and n2 ran once; n3 (killed before its writes were saved) ran again.
    assert (effects / "runs").read_text().split() == ["n1", "n2", "n3", "n3", "n4", "n5"]
