"""Concurrency on a real SQLite journal: eight processes answer one wait at the same moment,
exactly one wins; a flow script run as __main__ is continued by a detached worker that
re-imports it without running its main block."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from kitaru import FlowHandle, KitaruClient

from . import flows_basic as fb

RACER = Path(__file__).with_name("race_input.py")


@pytest.mark.slow
def test_eight_processes_race_one_wait(sqlite_runtime: object, tmp_path: Path) -> None:
    client = KitaruClient()
    handle = fb.with_wait.run(1, timeout=0.1)
    deadline = time.monotonic() + 20
    while sqlite_runtime.backend.get_execution(handle.exec_id).state.value != "waiting":  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    env = dict(
        os.environ,
        KITARU_STORE_URL=sqlite_runtime.store_url,  # type: ignore[attr-defined]
        KITARU_ARTIFACT_STORE=sqlite_runtime.artifact_uri,  # type: ignore[attr-defined]
        PYTHONPATH=os.getcwd(),
    )
    start_at = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(RACER),
                handle.exec_id,
                str(start_at),
                str(v),
                str(tmp_path / f"r{v}.json"),
            ],
            env=env,
        )
        for v in range(8)
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    results = [json.loads((tmp_path / f"r{v}.json").read_text()) for v in range(8)]
    winners = [r for r in results if r["won"]]
    assert len(winners) == 1, results
    losers = [r["error"] for r in results if not r["won"]]
    assert all(
        "resolved by someone else" in e or "already resolved" in e or "no pending waits" in e
        for e in losers
    ), losers
    assert handle.wait(timeout=30) == 2 * (2 + winners[0]["value"])
    assert client.executions.get(handle.exec_id).status.value == "completed"


@pytest.mark.slow
def test_script_run_as_main_is_continued_by_worker(tmp_path: Path) -> None:
    script = tmp_path / "my_agent.py"
    helper = tmp_path / "agent_helpers.py"
    helper.write_text("def shout(s):\n    return s.upper()\n")
    script.write_text(
        textwrap.dedent("""
        import sys
        from pathlib import Path
        from kitaru import checkpoint, flow, wait
        from agent_helpers import shout  # a sibling module: the script's folder is on sys.path

        @checkpoint
        def greet(name: str) -> str:
            return shout(f"hello {name}")

        @flow
        def agent(name: str) -> str:
            greeting = greet(name)
            answer = wait(name="reply", schema=str, timeout=0.1)
            return f"{greeting} / {answer}"

        if __name__ == "__main__":
            with open(Path(__file__).with_name("main_runs"), "a") as f:
                f.write("x")
            handle = agent.run("ada")
            Path(__file__).with_name("exec_id").write_text(handle.exec_id)
    """)
    )
    env = dict(
        os.environ,
        KITARU_STORE_URL=f"sqlite:///{tmp_path / 'j.db'}",
        KITARU_ARTIFACT_STORE=str(tmp_path / "a"),
    )
    subprocess.run(
        [sys.executable, str(script)], env=env, check=True, timeout=60, cwd=str(tmp_path.parent)
    )
    exec_id = (tmp_path / "exec_id").read_text()
    os.environ["KITARU_STORE_URL"] = env["KITARU_STORE_URL"]
    os.environ["KITARU_ARTIFACT_STORE"] = env["KITARU_ARTIFACT_STORE"]
    client = KitaruClient()
    assert client.executions.get(exec_id).status.value == "waiting"
    client.executions.input(exec_id, wait="reply", value="hi")
    assert FlowHandle(exec_id).wait(timeout=60) == "HELLO ADA / hi"
    assert (tmp_path / "main_runs").read_text() == "x"


@pytest.mark.slow
def test_script_that_runs_flows_at_import_fails_clearly_in_the_worker(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent("""
        from pathlib import Path
        from kitaru import flow, wait

        @flow
        def asks() -> str:
            return wait(name="q", schema=str, timeout=0.1)

        handle = asks.run()   # no main guard: a worker re-importing this must not run it again
        Path(__file__).with_name("exec_id").write_text(handle.exec_id)
    """)
    )
    env = dict(
        os.environ,
        KITARU_STORE_URL=f"sqlite:///{tmp_path / 'j.db'}",
        KITARU_ARTIFACT_STORE=str(tmp_path / "a"),
    )
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=60)
    exec_id = (tmp_path / "exec_id").read_text()
    os.environ["KITARU_STORE_URL"] = env["KITARU_STORE_URL"]
    os.environ["KITARU_ARTIFACT_STORE"] = env["KITARU_ARTIFACT_STORE"]
    client = KitaruClient()
    client.executions.input(exec_id, wait="q", value="hi")
    deadline = time.monotonic() + 30
    while client.executions.get(exec_id).status.value != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    failure = client.executions.get(exec_id).failure
    assert failure is not None and failure.origin.value == "runtime"
    assert 'if __name__ == "__main__":' in failure.message
    assert len(client.executions.list()) == 1  # the worker did not start a second execution
