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


LOST_CALL_SCRIPT = Path(__file__).with_name("lg_lost_call_flow.py")


@pytest.mark.slow
def test_node_committed_but_not_recorded_is_recorded_on_retry(
    tmp_path: Path, sqlite_urls: tuple[str, str], wait_for_status: Callable[..., None]
) -> None:
    """The process dies after the last node's writes were committed but before its call was
    recorded: the retry records the call (from the node document committed with the writes)
    and does not run the node again."""
    store, artifacts = sqlite_urls
    folder = tmp_path / "effects"
    folder.mkdir()
    here = str(Path(__file__).parent)
    env = dict(
        os.environ,
        KITARU_STORE_URL=store,
        KITARU_ARTIFACT_STORE=artifacts,
        PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, str(LOST_CALL_SCRIPT), store, artifacts, str(folder)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-3000:]
    exec_id = (folder / "exec_id").read_text()
    assert (folder / "runs").read_text().split() == ["n1", "n2", "n3"]

    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            before = client.executions.get(exec_id)
            assert before.status.value == "failed"
            assert [c.invocation_id for c in before.checkpoints] == ["n1", "n2"]
            client.executions.retry(exec_id)
            wait_for_status(exec_id, "completed", timeout=90)
            done = client.executions.get(exec_id)
            calls = [(c.invocation_id, c.checkpoint_type) for c in done.checkpoints]
            assert calls == [("n1", "graph_node"), ("n2", "graph_node"), ("n3", "graph_node")]
            result = [a for a in done.artifacts if a.save_type == "flow_output"]
            assert result[0].load() == ["n1", "n2", "n3"]
    finally:
        runtime.close()
    assert (folder / "runs").read_text().split() == ["n1", "n2", "n3"]  # nothing ran again
