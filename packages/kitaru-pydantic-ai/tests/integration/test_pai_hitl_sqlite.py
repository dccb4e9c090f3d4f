"""Human in the loop across processes on a SQLite journal: the execution suspends on the hitl
tool's wait, the runner's process exits, and input continues the agent run in a worker
process without sending the earlier model requests (or tool calls) again: for an agent run in
the flow body, and for one inside the user's own ``@checkpoint``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kitaru import FlowHandle, KitaruClient
from kitaru.runtime import Runtime, use_runtime

SCRIPT = Path(__file__).with_name("pai_hitl_flow.py")
IN_CHECKPOINT = Path(__file__).with_name("pai_hitl_checkpoint_flow.py")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.slow
def test_hitl_wait_is_answered_from_another_process(
    tmp_path: Path, sqlite_urls: tuple[str, str], wait_for_status: Callable[..., None]
) -> None:
    store, artifacts = sqlite_urls
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(effects)], env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    exec_id = (effects / "exec_id").read_text()
    assert (effects / "model").read_text().split() == ["1"]

    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            assert client.executions.get(exec_id).status.value == "waiting"
            (pending,) = client.executions.pending_waits(exec_id)
            assert (pending.name, pending.question) == ("refund_ok", "Refund 40 EUR?")
            assert pending.metadata == {
                "adapter": "pydantic_ai",
                "tool_name": "approve_refund",
                "tool_call_id": "c-7",
                "tool_args": {"amount": 40, "reason": "late"},
            }
            client.executions.input(exec_id, wait="refund_ok", value=True)  # starts a worker
            wait_for_status(exec_id, "completed", timeout=90)
            assert FlowHandle(exec_id).wait(timeout=5) == "refund approved: True"
            (call,) = client.executions.get(exec_id).checkpoints
            hitl = [e for e in call.metadata["pydantic_ai_events"].values() if e.get("hitl")]
            assert [(e["tool_name"], e["replayed"]) for e in hitl] == [("approve_refund", False)]
    finally:
        runtime.close()
    assert (effects / "model").read_text().split() == ["1", "2"]


@pytest.mark.slow
def test_hitl_inside_a_user_checkpoint_across_processes(
    tmp_path: Path, sqlite_urls: tuple[str, str], wait_for_status: Callable[..., None]
) -> None:
    store, artifacts = sqlite_urls
    effects = tmp_path / "effects"
    effects.mkdir()
    env = dict(os.environ, KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=artifacts)
    proc = subprocess.run(
        [sys.executable, str(IN_CHECKPOINT), str(effects)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    exec_id = (effects / "exec_id").read_text()
    assert _lines(effects / "model") == ["1", "2"]
    assert _lines(effects / "lookup") == ["7"]

    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    try:
        with use_runtime(runtime):
            client = KitaruClient()
            waiting = client.executions.get(exec_id)
            assert waiting.status.value == "waiting"
            # The suspended checkpoint is journaled (it reads waiting), with the events its agent
            # run completed before the wait (its artifacts belong to it).
            (suspended,) = waiting.checkpoints
            assert (suspended.invocation_id, suspended.status.value) == (
                "handle_refund",
                "waiting",
            )
            events = suspended.metadata["pydantic_ai_events"].values()
            assert [e["type"] for e in sorted(events, key=lambda e: e["sequence_index"])] == [
                "llm_call",
                "tool_call",
                "llm_call",
            ]
            assert {a.producing_call for a in waiting.artifacts} <= {"handle_refund", None}
            (summary,) = suspended.metadata["pydantic_ai_run_summaries"].values()
            assert summary["status"] == "suspended" and "error" not in summary
            (pending,) = client.executions.pending_waits(exec_id)
            assert (pending.name, pending.question) == ("refund_ok", "Refund 40 EUR?")
            assert pending.metadata == {
                "adapter": "pydantic_ai",
                "tool_name": "approve_refund",
                "tool_call_id": "c-2",
                "tool_args": {"amount": 40, "reason": "order 7 arrived late"},
            }
            client.executions.input(exec_id, wait="refund_ok", value=True)  # starts a worker
            wait_for_status(exec_id, "completed", timeout=90)
            assert FlowHandle(exec_id).wait(timeout=5) == "refund approved: True"
            (call,) = client.executions.get(exec_id).checkpoints
            assert (call.invocation_id, call.checkpoint_type) == ("handle_refund", "llm_call")
            events = sorted(
                call.metadata["pydantic_ai_events"].values(), key=lambda e: e["sequence_index"]
            )
            assert [(e["type"], e.get("tool_name"), e["replayed"]) for e in events] == [
                ("llm_call", None, True),
                ("tool_call", "lookup", True),
                ("llm_call", None, True),
                ("tool_call", "approve_refund", False),
                ("llm_call", None, False),
            ]
            assert events[3]["hitl"] is True
    finally:
        runtime.close()
    # The body ran twice; requests 1 and 2 and the lookup were replayed, not sent again.
    assert _lines(effects / "body") == ["run", "run"]
    assert _lines(effects / "model") == ["1", "2", "3"]
    assert _lines(effects / "lookup") == ["7"]
