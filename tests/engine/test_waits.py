"""wait(): input while listening, validation, suspension without a held thread, automatic
continuation (in-process on the memory journal, a detached worker process on SQLite),
abort, cancel and divergence after a code change."""

from __future__ import annotations

import threading
import time

import kitaru
import pydantic
import pytest
from kitaru import KitaruClient, checkpoint, flow, wait
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruExecutionError,
    KitaruStateError,
    KitaruUsageError,
    KitaruUserCodeError,
    KitaruWaitValidationError,
)

from . import flows_basic as fb


def _until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _suspended(runtime: object, exec_id: str) -> bool:
    """The runner let go: the stored state is ``waiting`` (not just a listening runner)."""
    return runtime.backend.get_execution(exec_id).state.value == "waiting"  # type: ignore[attr-defined]


def test_wait_scope_rules(runtime: object) -> None:
    with pytest.raises(KitaruContextError, match="only run inside a @flow"):
        wait()

    @checkpoint(retries=2)
    def bad() -> None:
        wait()

    @flow(retries=2)
    def f() -> None:
        bad()

    handle = f.run()
    with pytest.raises(KitaruExecutionError, match="cannot be called inside a @checkpoint") as info:
        handle.wait(timeout=10)
    # A usage failure: the same code fails the same way, so retries= does not rerun it, and
    # the hint says to fix the code before retrying.
    assert type(info.value) is KitaruUserCodeError
    assert info.value.failure_origin is FailureOrigin.USAGE
    assert "Call wait() in the flow body instead" in str(info.value)
    assert "usage error" in str(info.value) and "Fix the code" in str(info.value)
    assert f"kitaru executions retry {handle.exec_id}" in str(info.value)
    execution = KitaruClient().executions.get(handle.exec_id)
    assert execution.failure is not None and execution.failure.origin is FailureOrigin.USAGE
    assert [len(c.attempts) for c in execution.checkpoints] == [1]
    assert execution.attempts == ()  # no flow-level retry round either

    @flow
    def g() -> None:
        wait(timeout=-1)

    with pytest.raises(KitaruExecutionError, match="timeout"):
        g.run().wait(timeout=10)


def test_input_while_listening_continues_same_runner(runtime: object) -> None:
    client = KitaruClient()
    handle = fb.with_wait.run(1, timeout=30)
    _until(lambda: handle.status.value == "waiting")
    (pending,) = client.executions.pending_waits(handle.exec_id)
    assert pending.name == "extra" and pending.question == "How much more?"
    assert pending.schema == {"type": "integer"}
    started = time.monotonic()
    client.executions.input(handle.exec_id, wait="extra", value=3)
    assert handle.wait(timeout=10) == 10
    assert time.monotonic() - started < 2.0


def test_invalid_input_is_rejected_and_changes_nothing(runtime: object) -> None:
    client = KitaruClient()
    handle = fb.with_wait.run(1, timeout=30)
    _until(lambda: handle.status.value == "waiting")
    with pytest.raises(KitaruWaitValidationError, match="expected integer"):
        client.executions.input(handle.exec_id, wait="extra", value="many")
    with pytest.raises(KitaruStateError, match="no pending wait 'nope'. Available waits: extra"):
        client.executions.input(handle.exec_id, wait="nope", value=1)
    with pytest.raises(KitaruUsageError):
        client.executions.input(handle.exec_id, wait=" ", value=1)
    assert [w.name for w in client.executions.pending_waits(handle.exec_id)] == ["extra"]
    client.executions.input(handle.exec_id, wait="extra", value=2)
    assert handle.wait(timeout=10) == 8


class Decision(pydantic.BaseModel):
    approved: bool
    amount: int = 0


def test_input_is_coerced_as_pydantic_lax_mode(runtime: object) -> None:
    """SPEC decision 11: "5" for schema=int and "yes" for schema=bool are converted, stored
    converted, and wait() returns the right Python type; a bad value still changes nothing."""

    @flow
    def asks() -> list[object]:
        n = wait(name="n", schema=int, timeout=30)
        ok = wait(name="ok", schema=bool, timeout=30)
        decision = wait(name="d", schema=Decision, timeout=30)
        return [type(n).__name__, n, ok, type(decision).__name__, decision.amount]

    client = KitaruClient()
    handle = asks.run()

    def answer(name: str, value: object) -> None:
        _until(lambda: [w.name for w in client.executions.pending_waits(handle.exec_id)] == [name])
        client.executions.input(handle.exec_id, wait=name, value=value)

    answer("n", "5")
    _until(lambda: [w.name for w in client.executions.pending_waits(handle.exec_id)] == ["ok"])
    with pytest.raises(KitaruWaitValidationError, match="expected boolean"):
        client.executions.input(handle.exec_id, wait="ok", value="maybe")
    assert [w.name for w in client.executions.pending_waits(handle.exec_id)] == ["ok"]
    answer("ok", "yes")
    answer("d", {"approved": "true", "amount": "3"})
    assert handle.wait(timeout=10) == ["int", 5, True, "Decision", 3]
    stored = {w.name: w.value for w in runtime.backend.get_waits(handle.exec_id)}  # type: ignore[attr-defined]
    assert stored == {"n": 5, "ok": True, "d": {"approved": True, "amount": 3}}


def test_lapsed_window_releases_runner_and_input_continues(runtime: object) -> None:
    client = KitaruClient()
    handle = fb.with_wait.run(5, timeout=0.1)
    _until(lambda: _suspended(runtime, handle.exec_id))
    assert runtime.backend.get_execution(handle.exec_id).lease is None  # type: ignore[attr-defined]
    _until(
        lambda: (
            not [t for t in threading.enumerate() if t.name == f"kitaru-flow-{handle.exec_id[:8]}"]
        )
    )
    with pytest.raises(TimeoutError):
        handle.wait(timeout=0.2)
    client.executions.input(handle.exec_id, wait="extra", value=4)
    assert handle.wait(timeout=30) == 20
    resumed = client.executions.resume(handle.exec_id)  # idempotent after auto-continue
    assert resumed.status.value == "completed"


def test_abort_wait_cancels(runtime: object) -> None:
    client = KitaruClient()
    handle = fb.with_wait.run(1, timeout=0.1)
    _until(lambda: client.executions.get(handle.exec_id).status.value == "waiting")
    execution = client.executions.abort_wait(handle.exec_id, wait="extra")
    _until(lambda: client.executions.get(handle.exec_id).status.value == "cancelled")
    with pytest.raises(KitaruExecutionError) as info:
        handle.wait(timeout=10)
    assert info.value.status.value == "cancelled"
    assert execution.exec_id == handle.exec_id


def test_cancel_takes_effect_at_next_boundary(runtime: object) -> None:
    client = KitaruClient()
    handle = fb.long_flow.run(50)
    _until(lambda: len(client.executions.get(handle.exec_id).checkpoints) >= 1)
    client.executions.cancel(handle.exec_id)
    with pytest.raises(KitaruExecutionError):
        handle.wait(timeout=10)
    execution = client.executions.get(handle.exec_id)
    assert execution.status.value == "cancelled"
    assert len(execution.checkpoints) < 50
    with pytest.raises(KitaruStateError, match="already finished"):
        client.executions.cancel(handle.exec_id)


def test_resume_and_retry_preconditions(runtime: object) -> None:
    client = KitaruClient()
    done = fb.arithmetic.run(1)
    done.wait(timeout=10)
    with pytest.raises(KitaruStateError, match="Only failed executions can be retried"):
        client.executions.retry(done.exec_id)
    waiting = fb.with_wait.run(1, timeout=0.1)
    _until(lambda: client.executions.get(waiting.exec_id).status.value == "waiting")
    with pytest.raises(KitaruStateError, match="Resolve pending wait input before resuming"):
        client.executions.resume(waiting.exec_id)
    assert client.executions.get(waiting.exec_id).status.value == "waiting"


def test_code_change_while_waiting_is_divergence(
    runtime: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = KitaruClient()
    handle = fb.evolving.run(timeout=0.1)
    _until(lambda: _suspended(runtime, handle.exec_id))
    monkeypatch.setenv("KITARU_TEST_INSERT_STEP", "1")
    client.executions.input(handle.exec_id, wait="go", value=True)
    with pytest.raises(KitaruDivergenceError) as info:
        handle.wait(timeout=30)
    message = str(info.value)
    assert "'add'" in message and "'inserted_step'" in message
    execution = client.executions.get(handle.exec_id)
    assert execution.failure is not None and execution.failure.origin.value == "divergence"


def test_wait_returns_stored_value_on_restart(runtime: object) -> None:
    """A resolved wait is not asked again when the execution restarts from the top."""
    client = KitaruClient()
    handle = fb.evolving.run(timeout=0.1)
    _until(lambda: client.executions.get(handle.exec_id).status.value == "waiting")
    client.executions.input(handle.exec_id, wait="go", value=True)
    assert handle.wait(timeout=30) == "2:True"
    assert kitaru.FlowHandle(handle.exec_id).get() == "2:True"


def test_a_model_instance_answers_a_wait_and_a_repeated_name_is_pointed_out(
    runtime: object,
) -> None:
    from pydantic import BaseModel

    class Approval(BaseModel):
        ok: bool
        note: str = ""

    @flow
    def approve_twice() -> str:
        first = wait(name="approve", schema=Approval, timeout=30)
        second = wait(name="approve", schema=Approval, timeout=30)  # recorded as approve_2
        return f"{first.note}+{second.note}"

    client = KitaruClient()
    handle = approve_twice.run()
    _until(lambda: client.executions.get(handle.exec_id).status.value == "waiting")
    client.executions.input(handle.exec_id, wait="approve", value=Approval(ok=True, note="a"))
    _until(
        lambda: [w.name for w in client.executions.pending_waits(handle.exec_id)] == ["approve_2"]
    )
    with pytest.raises(KitaruStateError, match=r"already resolved\. Pending waits: approve_2\."):
        client.executions.input(handle.exec_id, wait="approve", value={"ok": True})
    client.executions.input(handle.exec_id, wait="approve_2", value=Approval(ok=True, note="b"))
    assert handle.wait(timeout=30) == "a+b"


def test_handle_messages_say_waiting_while_a_wait_is_pending(runtime: object) -> None:
    client = KitaruClient()
    handle = fb.with_wait.run(1, timeout=30)  # the runner listens: raw state running
    _until(lambda: client.executions.get(handle.exec_id).status.value == "waiting")
    with pytest.raises(KitaruStateError, match=r"has not finished \(status: waiting\)"):
        handle.get()
    with pytest.raises(TimeoutError, match=r"\(it is waiting\)"):
        handle.wait(timeout=0.05)
    client.executions.input(handle.exec_id, wait="extra", value=1)
    assert handle.wait(timeout=30) == 6
