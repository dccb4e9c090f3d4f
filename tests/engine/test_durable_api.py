"""The adapter building blocks: synthetic checkpoints, journaled child events, waits inside
an adapter-managed checkpoint and adapter waits inside a user's checkpoint (what hitl tools
of agent runs need), stable ids."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from kitaru import FlowHandle, KitaruClient, checkpoint, flow, wait
from kitaru.artifacts import LocalArtifactStore
from kitaru.durable import (
    ajournaled,
    flow_wait,
    in_checkpoint,
    in_flow,
    journaled,
    run_as_checkpoint,
    stable_id,
)
from kitaru.errors import KitaruContextError
from kitaru.runtime import Runtime, use_runtime
from kitaru.testing import MemoryBackend

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
    return run_as_checkpoint(
        lambda: _agent_run(prompt),
        name="agent",
        invocation_id="agent_agent_run_1",
        allow_waits=True,
    )


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


BODY_RUNS: list[str] = []


@checkpoint
def user_step(prompt: str) -> str:
    """A user's checkpoint whose 'agent' asks a human through the adapter wait path."""
    BODY_RUNS.append(stable_id("agent.run"))
    first = journaled("model.request", lambda: MODEL_CALLS.append("m1") or f"plan for {prompt}")
    approved = flow_wait(
        name="approve_tool",
        schema=bool,
        question=first,
        timeout=0.1,
        metadata={"tool_args": {"x": 1}},
    )
    second = journaled("model.request", lambda: MODEL_CALLS.append("m2") or "final answer")
    return f"{second} (approved={approved})"


@flow
def user_step_flow(prompt: str) -> str:
    return user_step(prompt)


def test_flow_wait_inside_a_user_checkpoint(runtime: object) -> None:
    MODEL_CALLS.clear()
    BODY_RUNS.clear()
    client = KitaruClient()
    handle = user_step_flow.run("x")
    deadline = time.monotonic() + 20
    while runtime.backend.get_execution(handle.exec_id).state.value != "waiting":  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (pending,) = client.executions.pending_waits(handle.exec_id)
    assert (pending.name, pending.question) == ("approve_tool", "plan for x")
    assert pending.metadata == {"tool_args": {"x": 1}}
    # Suspended inside: journaled as running (it continues when the flow reruns).
    (suspended,) = client.executions.get(handle.exec_id).checkpoints
    assert (suspended.invocation_id, suspended.status.value) == ("user_step", "waiting")
    client.executions.input(handle.exec_id, wait="approve_tool", value=True)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "final answer (approved=True)"
    (call,) = client.executions.get(handle.exec_id).checkpoints
    assert call.invocation_id == "user_step"
    if not runtime.cross_process:  # type: ignore[attr-defined]
        assert MODEL_CALLS == ["m1", "m2"]  # m1 replayed from the journal, not sent again
        first, again = BODY_RUNS
        assert first == again and len(first) == 64  # stable across the rerun of the body


def test_plain_wait_stays_an_error_in_a_user_checkpoint(runtime: object) -> None:
    @checkpoint
    def asks() -> object:
        try:
            wait(name="nope")
        except KitaruContextError as exc:
            return str(exc)
        return "no error"

    @flow
    def f() -> object:
        return asks()

    assert "cannot be called inside a @checkpoint" in str(f.run().wait(timeout=10))


def test_events_of_a_failed_attempt_replay_in_the_retry(runtime: object) -> None:
    sent: list[int] = []
    attempts: list[int] = []

    @checkpoint(retries=1)
    def flaky() -> list[str]:
        attempts.append(1)
        ids = [stable_id("run"), stable_id("run")]
        journaled("request", lambda: sent.append(1) or 1)
        if len(attempts) == 1:
            raise RuntimeError("transient")
        journaled("request", lambda: sent.append(2) or 2)
        return ids

    @flow
    def f() -> list[str]:
        return flaky()

    a, b = f.run().wait(timeout=10)
    assert a != b and len(attempts) == 2
    assert sent == [1, 2]  # the first request was replayed in the second attempt


def test_run_as_checkpoint_can_commit_without_waiting_for_the_disk(tmp_path: Path) -> None:
    """``sync=False`` reaches the backend for that synthetic call only; user checkpoints and
    journaled child events keep their own commit modes."""
    seen: list[tuple[str, bool]] = []

    class Recording(MemoryBackend):
        def save_call(self, exec_id: str, epoch: int, call: Any, **kwargs: Any) -> bool:
            seen.append((call.invocation_id, kwargs.get("sync", True)))
            return super().save_call(exec_id, epoch, call, **kwargs)

    @checkpoint
    def user_step() -> int:
        return 1

    @flow
    def mixed() -> int:
        relaxed = run_as_checkpoint(lambda: 2, name="node", type="graph_node", sync=False)
        return user_step() + relaxed + run_as_checkpoint(lambda: 3, name="agent")

    runtime = Runtime(backend=Recording(), artifact_store=LocalArtifactStore(tmp_path / "a"))
    with use_runtime(runtime):
        assert mixed.run().wait(timeout=10) == 6
    assert seen == [("node", False), ("user_step", True), ("agent", True)]


def test_new_adapter_helpers_reject_bad_input(runtime: object, tmp_path: Path) -> None:
    from kitaru.durable import replayed_wait
    from kitaru.errors import KitaruUsageError
    from kitaru.runtime import missing_journal_folder

    with pytest.raises(KitaruContextError, match="replayed_wait\\(\\) can only run inside"):
        replayed_wait("ask")
    seen: list[str] = []

    @flow
    def misuse() -> str:
        for bad in (
            lambda: replayed_wait(5),
            lambda: run_as_checkpoint(lambda: 1, name="n", sync="no"),
        ):  # type: ignore[arg-type]
            try:
                bad()
            except KitaruUsageError as exc:
                seen.append(str(exc))
        replayed_wait("ask")  # counted: the next wait named ask is ask_2
        return str(wait(name="ask", schema=str, timeout=0.05))

    handle = misuse.run()
    deadline = time.monotonic() + 20
    while KitaruClient().executions.get(handle.exec_id).status.value != "waiting":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert [w.name for w in KitaruClient().executions.pending_waits(handle.exec_id)] == ["ask_2"]
    assert seen == [
        "A wait name must be a string or None, got 5.",
        "run_as_checkpoint(sync=...) must be True or False, got 'no'.",
    ]
    assert KitaruClient().executions.get(handle.exec_id).checkpoints == ()  # nothing recorded
    with pytest.raises(KitaruUsageError, match="A journal URL must be a string"):
        missing_journal_folder(5)  # type: ignore[arg-type]
    assert missing_journal_folder(f"sqlite:///{tmp_path / 'nope' / 'k.db'}") == tmp_path / "nope"
    assert missing_journal_folder(f"sqlite:///{tmp_path / 'k.db'}") is None
    assert missing_journal_folder("memory://") is None


def test_save_json_and_save_as_store_encoded_values_once(runtime: object) -> None:
    from kitaru.durable import save_json
    from kitaru.errors import KitaruUsageError

    refused: list[str] = []
    ran: list[int] = []

    @checkpoint
    def step() -> int:
        for bad in (
            lambda: save_json("p", "not bytes"),  # type: ignore[arg-type]
            lambda: save_json("p", b"<xml/>"),
            lambda: save_json("", b"{}"),
            lambda: save_json("p", b"[1]", type="nope"),
            lambda: journaled("r", lambda: 1, save_as=("r",)),  # type: ignore[arg-type]
            lambda: journaled("r", lambda: 1, save_as=("r", "nope")),
        ):
            try:
                bad()
            except KitaruUsageError as exc:
                refused.append(str(exc))
        save_json("prompt", b'[{"role": "user", "content": "hi"}]', type="prompt")
        value = journaled(
            "r", lambda: ran.append(1) or {"answer": 42}, save_as=("resp", "response")
        )
        return int(value["answer"])

    @flow
    def f() -> int:
        return step()

    handle = f.run()
    assert handle.wait(timeout=10) == 42
    assert len(refused) == 6 and ran == [1]
    assert "not JSON text" in refused[1] and "(name, type) pair" in refused[4]
    artifacts = {a.name: a for a in KitaruClient().executions.get(handle.exec_id).artifacts}
    assert artifacts["prompt"].load() == [{"role": "user", "content": "hi"}]
    assert artifacts["prompt"].kind == "prompt"
    assert artifacts["resp"].load() == {"answer": 42} and artifacts["resp"].kind == "response"
    # the refused calls staged nothing (output / result: the checkpoint's and the flow's)
    assert sorted(artifacts) == ["output", "prompt", "resp", "result"]


def test_a_cancel_stops_a_checkpoint_at_its_next_child_event(runtime: object) -> None:
    """A long adapter checkpoint (an agent run) stops at its next journaled event once a
    cancel is requested, before that event's side effect, instead of at the checkpoint's end."""
    import threading

    from kitaru.durable import CANCEL_POLL_SECONDS

    ran: list[str] = []
    in_tool = threading.Event()
    release = threading.Event()

    def slow_tool() -> str:
        ran.append("tool")
        in_tool.set()
        assert release.wait(timeout=30)
        return "tool done"

    @checkpoint
    def agent_run() -> str:
        journaled("model.request", lambda: ran.append("model1") or "call the tool")
        journaled("call_tool", slow_tool)
        return journaled("model.request", lambda: ran.append("model2") or "final")

    @flow
    def cancellable() -> str:
        return agent_run()

    handle = cancellable.run()
    assert in_tool.wait(timeout=20)
    KitaruClient().executions.cancel(handle.exec_id)
    time.sleep(CANCEL_POLL_SECONDS + 0.1)
    release.set()
    deadline = time.monotonic() + 20
    while KitaruClient().executions.get(handle.exec_id).status.value != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert ran == ["model1", "tool"]  # the second model request was never sent


def test_the_client_takes_id_prefixes_and_any_case(runtime: object) -> None:
    from kitaru.errors import KitaruUsageError

    @flow
    def tiny() -> int:
        return 7

    handle = tiny.run()
    assert handle.wait(timeout=10) == 7
    client = KitaruClient()
    full = handle.exec_id
    for given in (full[:6], full[:8].upper(), full.upper()):
        assert client.executions.get(given).exec_id == full
        assert [w.name for w in client.executions.pending_waits(given)] == []
    with pytest.raises(KitaruUsageError, match="at least 6 characters"):
        client.executions.get(full[:4])
    with pytest.raises(Exception, match="was not found"):
        client.executions.get("ffffff00")


def test_the_loser_of_two_concurrent_retries_is_told_so(tmp_path: Path) -> None:
    import threading

    from kitaru.errors import KitaruStateError

    class RacingRestart(MemoryBackend):
        """Holds both retries at restart(), so they both read the execution failed."""

        gate = threading.Barrier(2, timeout=10)

        def restart(self, exec_id: str, **kwargs: Any) -> Any:
            self.gate.wait()
            return super().restart(exec_id, **kwargs)

    from . import flows_basic as fb

    fb.FAIL_ONCE_TRIES.clear()
    runtime = Runtime(backend=RacingRestart(), artifact_store=LocalArtifactStore(tmp_path / "a"))
    with use_runtime(runtime):
        handle = fb.fails_once.run()
        with pytest.raises(Exception, match="first try fails"):
            handle.wait(timeout=10)
        outcomes: list[str] = []

        def retry() -> None:
            try:
                KitaruClient().executions.retry(handle.exec_id)
                outcomes.append("retried")
            except KitaruStateError as exc:
                outcomes.append(str(exc))

        from contextvars import copy_context

        threads = [threading.Thread(target=copy_context().run, args=(retry,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert FlowHandle(handle.exec_id).wait(timeout=10) == "ok"
    assert sorted(outcomes)[1] == "retried", outcomes
    assert "was continued by another retry just now" in sorted(outcomes)[0]
