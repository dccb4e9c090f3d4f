"""Live progress: what a running checkpoint prints is journaled while it runs, a long
checkpoint reads ``running`` with its start time, and a SIGKILLed attempt keeps its output and
stays in its call's attempts after ``retry``.

The crash test runs ``live_flow.py`` as a real process on a real SQLite file."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru._runtime import Runtime, use_runtime
from kitaru.backend import CallState, ExecutionState
from kitaru.durable import flow_wait, run_as_checkpoint
from kitaru.testing import FaultyBackend

SCRIPT = Path(__file__).with_name("live_flow.py")
TIMEOUT = 30.0  # generous: CI machines are slow; the behaviour is ~1 s


def _poll(what: str, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _messages(runtime: Runtime, exec_id: str, **query: Any) -> list[str]:
    return [r.message for r in runtime.backend.get_logs(exec_id, **query)]


@pytest.mark.slow
def test_output_of_a_running_checkpoint_is_journaled_and_survives_sigkill(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path / 'journal.db'}"
    artifacts = str(tmp_path / "artifacts")
    folder = tmp_path / "work"
    folder.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        _poll("the exec id", (folder / "exec_id").exists)
        exec_id = (folder / "exec_id").read_text()
        # The checkpoint blocks until `go` exists: its lines are journaled while it runs.
        lines = _poll(
            "the running checkpoint's lines",
            lambda: len(got := _messages(runtime, exec_id, invocation_id="slow")) >= 2 and got,
        )
        assert lines == ["slow step started", "still working"]
        assert _messages(runtime, exec_id, source="runner") == ["flow body started"]
        with use_runtime(runtime):
            client = KitaruClient()
            execution = client.executions.get(exec_id)
            [call] = execution.checkpoints
            assert (execution.status.value, call.status.value) == ("running", "running")
            assert call.started_at is not None and call.ended_at is None
            [attempt] = call.attempts
            assert attempt.status.value == "running" and attempt.attempt_id == call.call_id
            assert proc.poll() is None  # all of this while the checkpoint still runs

            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=TIMEOUT) == -signal.SIGKILL
            lost = client.executions.get(exec_id)
            assert lost.status.value == "failed" and lost.failure is not None
            assert "Runner lost" in lost.failure.message
            [call] = lost.checkpoints
            assert call.status.value == "failed"
            [killed] = call.attempts
            assert killed.attempt_id == attempt.attempt_id
            assert killed.status.value == "failed" and killed.ended_at is not None
            assert killed.failure is not None and "Runner lost" in killed.failure.message
            assert killed.failure.origin.value == "runtime"
            assert _messages(runtime, exec_id, invocation_id="slow") == lines

            (folder / "go").touch()
            client.executions.retry(exec_id)
            assert FlowHandle(exec_id, runtime=runtime).wait(timeout=60) == "done"
            done = client.executions.get(exec_id)
            [call] = done.checkpoints
            assert call.status.value == "completed"
            assert [a.status.value for a in call.attempts] == ["failed", "completed"]
            assert call.attempts[0] == killed
            assert call.call_id == call.attempts[1].attempt_id
            assert call.original_call_id == killed.attempt_id
        assert _messages(runtime, exec_id, invocation_id="slow") == [
            *lines,
            "slow step started",
            "still working",
            "slow step done",
        ]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        runtime.close()


_gate = threading.Event()


@checkpoint
def _blocked(n: int) -> int:
    for i in range(n):
        print(f"line {i}")
    logging.getLogger("test_live").warning("logged")
    assert _gate.wait(TIMEOUT)
    return n


@checkpoint(retries=1)
def _flaky_then_slow(marker: str) -> str:
    if not Path(marker).exists():
        Path(marker).touch()
        raise ValueError("first attempt fails")
    assert _gate.wait(TIMEOUT)
    return "ok"


@flow
def _gated(n: int) -> int:
    print("flow body")
    return _blocked(n)


@flow
def _retried(marker: str) -> str:
    return _flaky_then_slow(marker)


@pytest.fixture
def gate() -> Any:
    _gate.clear()
    yield _gate
    _gate.set()


def test_lines_and_running_state_while_a_checkpoint_blocks(runtime: Runtime, gate: Any) -> None:
    """In order, while the checkpoint still runs; then one call and one attempt, completed
    (the final commit updates the rows written while it ran)."""
    handle = _gated.run(500)  # more than one flush batch
    expected = [f"line {i}" for i in range(500)] + ["logged"]
    exec_id = handle.exec_id
    _poll(
        "all lines",
        lambda: _messages(runtime, exec_id, invocation_id="blocked") == expected,
    )
    assert _messages(runtime, exec_id, source="runner") == ["flow body"]
    calls = runtime.backend.get_calls(exec_id)
    assert [(c.invocation_id, c.state) for c in calls] == [("blocked", CallState.RUNNING)]
    [attempt] = runtime.backend.get_attempts(exec_id)
    assert (attempt.state, attempt.attempt_id) == (CallState.RUNNING, calls[0].call_id)
    assert not handle.status.is_finished
    gate.set()
    assert handle.wait(timeout=TIMEOUT) == 500
    [call] = runtime.backend.get_calls(exec_id)
    [final] = runtime.backend.get_attempts(exec_id)
    assert (call.state, final.state) == (CallState.COMPLETED, CallState.COMPLETED)
    assert final.attempt_id == attempt.attempt_id == call.call_id
    assert final.started_at == attempt.started_at and final.ended_at is not None
    assert _messages(runtime, exec_id, invocation_id="blocked") == expected


def test_a_retried_checkpoint_running_again_shows_its_failed_attempt(
    runtime: Runtime, gate: Any, tmp_path: Path
) -> None:
    handle = _retried.run(str(tmp_path / "failed-once"))
    exec_id = handle.exec_id
    _poll("the second attempt running", lambda: len(runtime.backend.get_attempts(exec_id)) == 2)
    first, second = runtime.backend.get_attempts(exec_id)
    assert (first.state, second.state) == (CallState.FAILED, CallState.RUNNING)
    assert first.failure is not None and "first attempt fails" in first.failure.message
    [call] = runtime.backend.get_calls(exec_id)
    assert (call.state, call.call_id) == (CallState.RUNNING, second.attempt_id)
    gate.set()
    assert handle.wait(timeout=TIMEOUT) == "ok"
    assert [a.state for a in runtime.backend.get_attempts(exec_id)] == [
        CallState.FAILED,
        CallState.COMPLETED,
    ]


@checkpoint
def _quick(i: int) -> int:
    return i


@flow
def _many_quick(n: int) -> int:
    return sum(_quick(i) for i in range(n))


def test_fast_checkpoints_journal_no_running_rows(runtime: Runtime) -> None:
    """A fast checkpoint is committed once, as before: no running row, no extra write."""
    counted = FaultyBackend(runtime.backend)
    with use_runtime(Runtime(backend=counted, artifact_store=runtime.artifact_store)):
        assert _many_quick.run(50).wait(timeout=TIMEOUT) == sum(range(50))
    assert counted.counts["save_call"] == 50
    assert counted.counts.get("save_attempt", 0) == 0


def _agent_run() -> int:
    print("agent asks for approval")
    return int(flow_wait(schema=int, name="approve", timeout=0.6)) * 2


@flow
def _with_agent() -> int:
    return run_as_checkpoint(_agent_run, name="agent", allow_waits=True)


@pytest.mark.parametrize("answer", ["input", "abort"])
def test_a_checkpoint_suspended_at_a_wait_stays_running_until_it_ends(
    runtime: Runtime, answer: str
) -> None:
    """An adapter's checkpoint that waits inside reads ``waiting`` while its execution waits
    (its attempt still ``running``); the continuation finishes that same attempt, or
    cancelling fails it."""
    handle = _with_agent.run()
    client = KitaruClient()
    _poll(  # suspended: the runner stopped listening (after the wait's 0.6 s window)
        "suspended",
        lambda: runtime.backend.get_execution(handle.exec_id).state is ExecutionState.WAITING,
    )
    waiting = client.executions.get(handle.exec_id)
    assert waiting.status.value == "waiting"
    [call] = waiting.checkpoints
    assert call.status.value == "waiting"
    [attempt] = call.attempts
    assert attempt.status.value == "running"
    if answer == "input":
        client.executions.input(handle.exec_id, wait="approve", value=21)
        assert handle.wait(timeout=TIMEOUT) == 42
        [call] = client.executions.get(handle.exec_id).checkpoints
        assert call.status.value == "completed"
        [final] = call.attempts
        assert (final.attempt_id, final.status.value) == (attempt.attempt_id, "completed")
    else:
        client.executions.abort_wait(handle.exec_id, wait="approve")
        cancelled = client.executions.get(handle.exec_id)
        assert cancelled.status.value == "cancelled"
        [call] = cancelled.checkpoints
        [final] = call.attempts
        # the call reads cancelled with its execution; its attempt keeps the failure
        assert (call.status.value, final.status.value) == ("cancelled", "failed")
        assert final.failure is not None
        assert final.failure.message == "Wait 'approve' was aborted."


@checkpoint
def _progress() -> None:
    print("one", end="")
    print(" line")  # a fresh unfinished line is never split by the background flush
    sys.stdout.write("downloading... ")
    sys.stdout.write("50%")
    sys.stdout.flush()
    assert _gate.wait(TIMEOUT)
    print(" done")


@flow
def _with_progress() -> None:
    _progress()


def test_an_unfinished_line_is_journaled_after_a_while(runtime: Runtime, gate: Any) -> None:
    handle = _with_progress.run()
    _poll(
        "the unfinished line",
        lambda: _messages(runtime, handle.exec_id) == ["one line", "downloading... 50%"],
    )
    gate.set()
    handle.wait(timeout=TIMEOUT)
    assert _messages(runtime, handle.exec_id) == ["one line", "downloading... 50%", " done"]
