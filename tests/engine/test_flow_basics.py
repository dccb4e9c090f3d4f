"""@flow / @checkpoint semantics on the in-memory journal and a real SQLite file."""

from __future__ import annotations

import time

import kitaru
import pytest
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruExecutionError,
    KitaruUsageError,
    KitaruUserCodeError,
)

from . import flows_basic as fb


def test_direct_flow_call_is_rejected(runtime: object) -> None:
    with pytest.raises(KitaruUsageError, match="Direct flow calls are not supported"):
        fb.arithmetic(1)


def test_run_returns_handle_and_result(runtime: object) -> None:
    handle = fb.arithmetic.run(3)
    assert isinstance(handle.exec_id, str)
    assert handle.wait(timeout=10) == 12
    assert handle.get() == 12
    assert handle.status.value == "completed" and handle.status.is_finished
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [c.invocation_id for c in execution.checkpoints] == ["add", "add_2", "double"]
    assert {c.name for c in execution.checkpoints} == {"add", "double"}
    outputs = [a for a in execution.artifacts if a.save_type == "step_output"]
    assert [a.load() for a in outputs] == [4, 6, 12]


def test_checkpoint_outside_flow_and_nested(runtime: object) -> None:
    with pytest.raises(KitaruContextError, match="only run inside a @flow"):
        fb.add(1, 2)

    @checkpoint
    def outer() -> int:
        return fb.add(1, 2)

    @flow
    def nesting() -> int:
        return outer()

    # Misusing Kitaru's API is a usage failure (retries= does not rerun the same code).
    with pytest.raises(KitaruExecutionError, match="Nested checkpoint") as info:
        nesting.run().wait(timeout=10)
    assert info.value.failure_origin is FailureOrigin.USAGE


def test_bad_options_are_rejected_before_anything_is_stored(runtime: object) -> None:
    with pytest.raises(KitaruUsageError, match="retries must be >= 0"):
        fb.arithmetic.run(1, retries=-1)
    with pytest.raises(KitaruUsageError, match="Invalid arguments"):
        fb.arithmetic.run(1, 2, 3)
    with pytest.raises(KitaruUsageError, match="Unknown stack"):
        fb.arithmetic.run(1, stack="nope")
    with pytest.raises(KitaruUsageError, match="Checkpoint retries must be >= 0"):
        checkpoint(retries=-2)(lambda: 1)
    assert KitaruClient().executions.list() == []


def test_failure_is_typed_with_retry_hint_and_attempts(runtime: object) -> None:
    calls = []

    @checkpoint(retries=2)
    def flaky() -> int:
        calls.append(1)
        raise ValueError("boom")

    @flow
    def failing() -> int:
        return flaky()

    handle = failing.run()
    with pytest.raises(KitaruUserCodeError) as info:
        handle.wait(timeout=10)
    assert "kitaru executions retry" in str(info.value)
    assert info.value.status.value == "failed"
    assert len(calls) == 3
    execution = KitaruClient().executions.get(handle.exec_id)
    assert execution.status.value == "failed"
    assert execution.failure is not None and execution.failure.origin.value == "user_code"
    (call,) = execution.checkpoints
    assert [a.status.value for a in call.attempts] == ["failed", "failed", "failed"]
    assert "ValueError: boom" in call.failure.message


def test_checkpoint_retry_succeeds(runtime: object) -> None:
    state = {"n": 0}

    @checkpoint(retries=3, retry_delay=0.01, backoff=2)
    def eventually() -> str:
        state["n"] += 1
        if state["n"] < 3:
            raise RuntimeError("not yet")
        return "done"

    @flow
    def f() -> str:
        return eventually()

    handle = f.run()
    assert handle.wait(timeout=10) == "done"
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert [a.status.value for a in call.attempts] == ["failed", "failed", "completed"]


def test_flow_retries_rerun_from_top_reusing_checkpoints(runtime: object) -> None:
    state = {"rounds": 0, "cp": 0}

    @checkpoint
    def expensive() -> int:
        state["cp"] += 1
        return 7

    @flow(retries=2)
    def f() -> int:
        value = expensive()
        state["rounds"] += 1
        if state["rounds"] < 2:
            raise RuntimeError("transient")
        return value

    assert f.run().wait(timeout=20) == 7
    assert state == {"rounds": 2, "cp": 1}


def test_explicit_ids_and_duplicates(runtime: object) -> None:
    @flow
    def f() -> list[int]:
        return [fb.add(i, i, id=f"step_{i}") for i in range(3)]

    handle = f.run()
    assert handle.wait(timeout=10) == [0, 2, 4]
    ids = [c.invocation_id for c in KitaruClient().executions.get(handle.exec_id).checkpoints]
    assert ids == ["step_0", "step_1", "step_2"]

    @flow
    def dup() -> int:
        fb.add(1, 1, id="same")
        return fb.add(1, 1, id="same")

    with pytest.raises(KitaruExecutionError, match="used twice"):
        dup.run().wait(timeout=10)


def test_submit_map_product(runtime: object) -> None:
    @flow
    def fan() -> tuple[int, list[int], list[int]]:
        single = fb.add.submit(1, 2)
        mapped = fb.add.map([1, 2, 3], 10)
        crossed = fb.add.product([1, 2], [100, 200])
        return single.result(), [m.result() for m in mapped], [c.load() for c in crossed]

    handle = fan.run()
    assert handle.wait(timeout=10) == (3, [11, 12, 13], [101, 201, 102, 202])
    ids = [c.invocation_id for c in KitaruClient().executions.get(handle.exec_id).checkpoints]
    assert ids == ["add"] + [f"add_{i}" for i in range(2, 9)]


def test_map_needs_an_iterable(runtime: object) -> None:
    @flow
    def bad() -> None:
        fb.add.map(1, 2)

    with pytest.raises(KitaruExecutionError, match="No inputs to map over") as info:
        bad.run().wait(timeout=10)
    assert info.value.failure_origin is FailureOrigin.USAGE
    with pytest.raises(KitaruContextError, match="only available inside a running @flow"):
        fb.add.submit(1, 2)


def test_unawaited_futures_are_awaited(runtime: object) -> None:
    @flow
    def fire_and_forget() -> str:
        fb.add.submit(5, 5)
        return "returned"

    handle = fire_and_forget.run()
    assert handle.wait(timeout=10) == "returned"
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert call.status.value == "completed"


def test_log_merges_and_save_load(runtime: object) -> None:
    handle = fb.logging_flow.run()
    assert handle.wait(timeout=10) == "ok"
    execution = KitaruClient().executions.get(handle.exec_id)
    assert execution.metadata == {"cost": {"usd": 0.001, "tokens": 42}, "model": "b"}
    (call,) = execution.checkpoints
    assert call.metadata == {"step": {"a": 1, "b": 2}}
    manual = [a for a in execution.artifacts if a.save_type == "manual"]
    assert [(a.name, a.kind) for a in manual] == [("context_blob", "context")]
    assert manual[0].load() == {"k": "v"}

    @checkpoint
    def loader(exec_id: str) -> tuple[object, object]:
        return kitaru.load(exec_id, "context_blob"), kitaru.load(exec_id, "tagged")

    @flow
    def reader(exec_id: str) -> tuple[object, object]:
        return loader(exec_id)

    assert reader.run(handle.exec_id).wait(timeout=10) == ({"k": "v"}, "ok")
    with pytest.raises(KitaruContextError, match="only be called inside a @flow"):
        kitaru.log(a=1)
    with pytest.raises(KitaruContextError, match="inside a @checkpoint"):
        kitaru.save("x", 1)


def test_load_finds_checkpoint_outputs(runtime: object) -> None:
    """SPEC decision 23: by checkpoint name, by invocation id, by output name ("output");
    ambiguity and misses list the candidates."""
    source = fb.arithmetic.run(10)  # add -> add_2 -> double
    assert source.wait(timeout=10) == 26

    @flow
    def one_step(x: int) -> int:
        return fb.double(x)

    single = one_step.run(4)
    assert single.wait(timeout=10) == 8

    @checkpoint
    def loader(exec_id: str, name: str) -> object:
        return kitaru.load(exec_id, name)

    @flow
    def reader(exec_id: str, name: str) -> object:
        return loader(exec_id, name)

    def load(exec_id: str, name: str) -> object:
        return reader.run(exec_id, name, cache=False).wait(timeout=10)

    assert load(source.exec_id, "double") == 26
    assert load(source.exec_id, "add_2") == 13
    with pytest.raises(KitaruExecutionError, match=r"Multiple artifacts named 'add'.*add_2/"):
        load(source.exec_id, "add")
    with pytest.raises(KitaruExecutionError, match=r"Multiple artifacts named 'output'"):
        load(source.exec_id, "output")
    with pytest.raises(KitaruExecutionError) as info:
        load(source.exec_id, "nope")
    assert (
        "No artifact named 'nope' was found in execution "
        f"{source.exec_id}. Available: checkpoint outputs (by checkpoint name or invocation "
        "id): add, add_2, double."
    ) in str(info.value)
    assert load(single.exec_id, "output") == 8  # the only checkpoint's output


def test_cache_reuses_outputs_across_executions(runtime: object) -> None:
    fb.CALLS.clear()
    first = fb.arithmetic.run(10)
    assert first.wait(timeout=10) == 26
    second = fb.arithmetic.run(10)
    assert second.wait(timeout=10) == 26
    assert fb.CALLS == ["add(10,1)", "add(11,2)", "double(13)"]
    calls = KitaruClient().executions.get(second.exec_id).checkpoints
    assert all(c.cached_from and c.cached_from.startswith(first.exec_id) for c in calls)
    fb.CALLS.clear()
    assert fb.arithmetic.run(10, cache=False).wait(timeout=10) == 26
    assert len(fb.CALLS) == 3


def test_runtime_logs_are_captured_per_checkpoint(runtime: object) -> None:
    handle = fb.arithmetic.run(1)
    handle.wait(timeout=10)
    logs = KitaruClient().executions.logs(handle.exec_id)
    assert [(e.checkpoint_name, e.message) for e in logs] == [
        ("add", "adding 1 and 1"),
        ("add", "adding 2 and 2"),
    ]
    only = KitaruClient().executions.logs(handle.exec_id, checkpoint="add_2")
    assert [e.message for e in only] == ["adding 2 and 2"]


def test_replay_with_override(runtime: object) -> None:
    client = KitaruClient()
    source = fb.research_flow.run("kitaru")
    assert source.wait(timeout=10) == "PUBLISHED: Draft from notes for kitaru"
    replayed = client.executions.replay(
        source.exec_id,
        from_="write_draft",
        overrides={"checkpoint.research": "edited notes for kitaru"},
    )
    assert replayed.exec_id != source.exec_id
    assert replayed.original_exec_id == source.exec_id
    result = kitaru.FlowHandle(replayed.exec_id).wait(timeout=10)
    assert result == "PUBLISHED: Draft from edited notes for kitaru"
    calls = {c.invocation_id: c for c in client.executions.get(replayed.exec_id).checkpoints}
    assert calls["research"].overridden


def test_replay_bad_input_changes_nothing(runtime: object) -> None:
    client = KitaruClient()
    source = fb.research_flow.run("x")
    source.wait(timeout=10)
    before = len(client.executions.list())
    with pytest.raises(KitaruUsageError, match="Wait overrides"):
        client.executions.replay(source.exec_id, from_="publish", overrides={"wait.a": 1})
    with pytest.raises(KitaruUsageError, match="must start with `checkpoint.`"):
        client.executions.replay(source.exec_id, from_="publish", overrides={"x": 1})
    with pytest.raises(kitaru.KitaruStateError, match="Available checkpoints: research"):
        client.executions.replay(source.exec_id, from_="nope")
    # Replacement inputs are checked against the flow's annotations, as `run --args` is.
    with pytest.raises(KitaruUsageError, match="Input should be a valid string"):
        client.executions.replay(source.exec_id, from_="publish", topic=["not", "text"])
    with pytest.raises(KitaruUsageError, match="has no parameter 'nope'. Parameters: topic"):
        client.executions.replay(source.exec_id, from_="publish", nope=1)
    assert len(client.executions.list()) == before


def test_async_functions_are_rejected_with_the_fix() -> None:
    async def agent() -> int:
        return 1

    with pytest.raises(KitaruUsageError, match="asyncio.run"):
        flow(agent)
    with pytest.raises(KitaruUsageError, match="asyncio.run"):
        checkpoint(agent)


def test_a_failed_checkpoint_does_not_pin_the_sequence_for_fixed_code(
    runtime: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usage-error hint says: fix the code, then retry. The fix may call another
    checkpoint where the failed one was: only completed calls pin the sequence."""
    client = KitaruClient()
    handle = fb.fixable.run()
    with pytest.raises(KitaruUserCodeError, match="then retry"):
        handle.wait(timeout=10)
    monkeypatch.setenv("KITARU_TEST_FIXED", "1")
    client.executions.retry(handle.exec_id)
    deadline = time.monotonic() + 30
    while client.executions.get(handle.exec_id).status.value != "waiting":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    client.executions.input(handle.exec_id, wait="answer", value="yes")
    assert kitaru.FlowHandle(handle.exec_id).wait(timeout=30) == "2:used yes"
    calls = {c.invocation_id: c for c in client.executions.get(handle.exec_id).checkpoints}
    assert calls["add"].status.value == "completed" and len(calls["add"].attempts) == 1
    assert calls["ask_inside"].status.value == "failed"  # kept as history
    assert calls["use_answer"].status.value == "completed"


def test_a_replay_override_takes_the_checkpoint_return_type(runtime: object) -> None:
    handle = fb.planned.run(2)
    assert handle.wait(timeout=10) == "2 steps, total 3"
    client = KitaruClient()
    overrides = {"checkpoint.plan": {"steps": "9"}, "checkpoint.count": "41"}
    converted = client.executions.replay(handle.exec_id, from_="use_plan", overrides=overrides)
    assert FlowHandle(converted.exec_id).wait(timeout=30) == "9 steps, total 41"
    again = client.executions.get(converted.exec_id)
    assert [c.overridden for c in again.checkpoints[:2]] == [True, True]
    wrong = client.executions.replay(
        handle.exec_id, from_="use_plan", overrides={"checkpoint.count": "not a number"}
    )
    with pytest.raises(Exception, match="does not fit its return type int"):
        FlowHandle(wrong.exec_id).wait(timeout=30)
    failed = client.executions.get(wrong.exec_id)
    assert failed.failure is not None and failed.failure.origin.value == "usage"
