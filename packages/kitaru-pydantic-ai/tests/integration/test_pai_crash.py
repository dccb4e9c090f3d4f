"""A real crash: the agent run is SIGKILLed in a subprocess on a SQLite journal; ``retry``
continues it in a worker process, and completed model requests and tool calls are replayed
from the journal instead of being sent again (counted through side-effect files)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru.runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("pai_crash_flow.py")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_at", "before", "models", "replayed"),
    [
        # killed as the second tool starts: model 1, add and model 2 are in the journal
        ("tool", ["1", "2"], ["1", "2", "3"], [True, True, True, False, False]),
        # killed inside model request 3, after its side effect: only request 3 is sent again
        ("model3", ["1", "2", "3"], ["1", "2", "3", "3"], [True, True, True, True, False]),
    ],
    ids=["kill-as-tool-starts", "kill-in-model-request-3"],
)
@pytest.mark.parametrize("attached", [False, True], ids=["per-run", "attached"])
def test_killed_agent_run_resumes_from_the_journal(
    tmp_path: Path,
    sqlite_urls: tuple[str, str],
    wait_for_status: Callable[..., None],
    kill_at: str,
    before: list[str],
    models: list[str],
    replayed: list[bool],
    attached: bool,
) -> None:
    store, artifacts = sqlite_urls
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts, KILL_AT=kill_at)
    env.pop("PAI_ATTACHED", None)
    if attached:
        env["PAI_ATTACHED"] = "1"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(effects)], env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()[-3000:]
    exec_id = (effects / "exec_id").read_text()
    assert _lines(effects / "model") == before

    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            lost = client.executions.get(exec_id)
            assert lost.status.value == "failed"
            assert lost.failure is not None and lost.failure.origin.value == "runtime"
            client.executions.retry(exec_id)  # continues in a detached worker process
            wait_for_status(exec_id, "completed", timeout=90)
            done = client.executions.get(exec_id)
            (call,) = done.checkpoints
            assert call.invocation_id == "crashy_agent_run_1"
            events = sorted(
                call.metadata["pydantic_ai_events"].values(), key=lambda e: e["sequence_index"]
            )
            assert [e["replayed"] for e in events] == replayed
            # An event's artifacts were committed with it: those of the events completed
            # before the kill survived it (a replayed event does not save them again).
            saved = [a.name for a in done.artifacts]
            for event in events:
                assert all(saved.count(name) == 1 for name in event["artifacts"]), event
            result = [a for a in done.artifacts if a.save_type == "flow_output"]
            assert result[0].load() == "total 5 done"
    finally:
        runtime.close()
    assert _lines(effects / "model") == models
    assert _lines(effects / "add") == ["2+3"]
    assert _lines(effects / "finish_up") == ["5"]
