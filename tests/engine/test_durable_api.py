"""The adapter building blocks: synthetic checkpoints, journaled child events, waits inside
an adapter-managed checkpoint (what hitl tools of agent runs need)."""

from __future__ import annotations

import asyncio
import time

import pytest
from kitaru import FlowHandle, KitaruClient, flow, wait
from kitaru.durable import ajournaled, in_checkpoint, in_flow, journaled, run_as_checkpoint
from kitaru.errors import KitaruContextError

MODEL_CALLS: list[str] = []


def _agent_run(prompt: str) -> str:
    """A stand-in agent: two 'model requests' and a tool that needs a human."""
    first = journaled("model.request", lambda: MODEL_CALLS.append("m1") or f"plan for {prompt}")
    approved = wait(name="approve_tool", schema=bool, question=first, timeout=0.1)
    second = journaled("model.request", lambda: MODEL_CALLS.append("m2") or "final answer")
    return f"{second} (approved={approved})"


@flow
def agent_flow(prompt: str) -> str:
    assert in_flow() and not in_checkpoint()
    return run_as_checkpoint(lambda: _agent_run(prompt), name="agent",
                             invocation_id="agent_agent_run_1", allow_waits=True)


def test_wait_inside_adapter_checkpoint_replays_child_events(runtime: object) -> None:
    MODEL_CALLS.clear()
    client = KitaruClient()
    handle = agent_flow.run("x")
    deadline = time.monotonic() + 20
    while runtime.backend.get_execution(handle.exec_id).state.value != "waiting":  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (pending,) = client.executions.pending_waits(handle.exec_id)
    assert pending.question == "plan for x"
    client.executions.input(handle.exec_id, wait="approve_tool", value=True)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "final answer (approved=True)"
    if runtime.cross_process:  # type: ignore[attr-defined]
        # the continuation ran in a worker process: this process saw only the first request
        assert MODEL_CALLS == ["m1"]
    else:
        assert MODEL_CALLS == ["m1", "m2"]  # m1 replayed from the journal, not sent again
    execution = client.executions.get(handle.exec_id)
    (call,) = execution.checkpoints
    assert (call.invocation_id, call.checkpoint_type) == ("agent_agent_run_1", "llm_call")
    assert all(a.save_type != "event" for a in execution.artifacts)
    (summary,) = [e for e in client.executions.list() if e.exec_id == handle.exec_id]
    assert summary.artifact_count == len(execution.artifacts)  # events are not counted


def test_async_journaled_and_scope_rules(runtime: object) -> None:
    calls = []

    async def request() -> dict[str, int]:
        calls.append(1)
        return {"tokens": 3}

    def body() -> dict[str, int]:
        return asyncio.run(ajournaled("model.request", request))

    @flow
    def f() -> dict[str, int]:
        return run_as_checkpoint(body, name="llm")

    assert f.run().wait(timeout=10) == {"tokens": 3}
    assert calls == [1]
    with pytest.raises(KitaruContextError):
        journaled("x", lambda: 1)
    with pytest.raises(KitaruContextError):
        run_as_checkpoint(lambda: 1, name="x")
