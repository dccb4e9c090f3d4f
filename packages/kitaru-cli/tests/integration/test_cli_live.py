"""The real ``kitaru`` console script while a checkpoint runs (a detached worker started by
``kitaru run``, on the embedded SQLite journal): ``executions get`` shows it ``running`` with
its start time, and ``executions logs --follow`` prints its lines while it runs."""

from __future__ import annotations

import selectors
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FLOW = textwrap.dedent(
    """
    import time
    from pathlib import Path

    import kitaru


    @kitaru.checkpoint
    def prepare() -> str:
        return "ready"


    @kitaru.checkpoint
    def slow(folder: str) -> str:
        print("slow step started", flush=True)
        deadline = time.monotonic() + 120
        while not Path(folder, "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        print("slow step done", flush=True)
        return "done"


    @kitaru.flow
    def live(folder: str) -> str:
        prepare()
        return slow(folder)
    """
)
KITARU = Path(sys.executable).with_name("kitaru")
TIMEOUT = 60.0  # generous: CI machines are slow; the behaviour is ~1 s


def _poll(what: str, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


@pytest.mark.slow
def test_get_and_follow_a_running_checkpoint(kitaru_exe: Any, tmp_path: Path) -> None:
    (tmp_path / "live_flows.py").write_text(FLOW)
    go = tmp_path / "go"
    submitted = kitaru_exe(
        "run", "live_flows.py:live", "--args", f'{{"folder": "{tmp_path}"}}', "-o", "json"
    )
    assert submitted.exit_code == 0, submitted.stderr
    exec_id = submitted.json()["item"]["exec_id"]
    follow = subprocess.Popen(
        [str(KITARU), "executions", "logs", exec_id, "--follow", "--interval", "0.2"],
        env=kitaru_exe.env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def running_slow() -> dict[str, Any] | None:
            result = kitaru_exe("executions", "get", exec_id, "-o", "json")
            assert result.exit_code == 0, result.stderr
            item = result.json()["item"]
            calls = {c["invocation_id"]: c for c in item["checkpoints"]}
            return item if calls.get("slow", {}).get("status") == "running" else None

        item = _poll("`get` to show the running checkpoint", running_slow)
        assert item["status"] == "running"
        prepare, slow = item["checkpoints"]
        assert (prepare["status"], slow["status"]) == ("completed", "running")
        assert slow["started_at"] >= prepare["ended_at"] and "ended_at" not in slow
        [attempt] = slow["attempts"]
        assert (attempt["status"], attempt["attempt_id"]) == ("running", slow["call_id"])
        text = kitaru_exe("executions", "get", exec_id)
        assert text.exit_code == 0, text.stderr
        assert "Checkpoints: prepare (completed), slow (running)" in text.stdout
        assert "  Running: slow (since 20" in text.stdout  # local time, to the second

        # --follow prints the line while the checkpoint still blocks
        assert follow.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(follow.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + TIMEOUT
        line = ""
        while "slow step started" not in line:
            assert time.monotonic() < deadline, "`logs --follow` printed nothing"
            if selector.select(timeout=0.5):
                line = follow.stdout.readline()
                assert line, follow.stderr.read() if follow.stderr else ""
        assert not go.exists() and follow.poll() is None
        go.touch()
        out, err = follow.communicate(timeout=TIMEOUT)
        assert follow.returncode == 0, err
        assert out.splitlines() == ["slow step done", "[Execution completed successfully]"]
    finally:
        go.touch()
        if follow.poll() is None:
            follow.kill()
            follow.communicate()
    done = kitaru_exe("executions", "get", exec_id, "-o", "json").json()["item"]
    slow = done["checkpoints"][1]
    assert slow["status"] == "completed"
    assert [a["status"] for a in slow["attempts"]] == ["completed"]
