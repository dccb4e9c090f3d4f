"""Agent runs inside flows: the synthetic ``<agent>_agent_run_<n>`` checkpoints, the tracked
events (metadata, artifacts, lineage), capture modes, and replay of journaled events."""

from __future__ import annotations

import asyncio
from typing import Any

import kitaru_pydantic_ai as kp
import pytest
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru.errors import KitaruUsageError
from kitaru.runtime import Runtime
from pydantic import BaseModel
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

CALLS: list[str] = []


def _responses(messages: list[ModelMessage]) -> int:
    return sum(1 for m in messages if m.kind == "response")


def calc_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Request 1 calls ``add``, request 2 calls ``check``, request 3 answers."""
    n = _responses(messages) + 1
    CALLS.append(f"model{n}")
    if n == 1:
        return ModelResponse(parts=[ToolCallPart("add", {"a": 2, "b": 3})])
    if n == 2:
        return ModelResponse(parts=[ToolCallPart("check", {"value": 5})])
    return ModelResponse(parts=[TextPart(f"sum is {messages[-1].parts[0].content}")])


calc = Agent(FunctionModel(calc_model), name="calc")
FAIL_CHECK: list[bool] = []


@calc.tool_plain
def add(a: int, b: int) -> int:
    CALLS.append("add")
    return a + b


@calc.tool_plain
def check(value: int) -> int:
    CALLS.append("check")
    if FAIL_CHECK:
        FAIL_CHECK.pop()
        raise RuntimeError("check crashed")
    return value


wrapped_calc = kp.wrap(calc)
other = kp.wrap(Agent(TestModel(custom_output_text="hi"), name="Other Agent"))


@flow
def two_runs(prompt: str) -> str:
    first = wrapped_calc.run_sync(prompt).output
    second = wrapped_calc.run_sync(prompt).output
    third = other.run_sync(prompt).output
    return f"{first}|{second}|{third}"


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAIL_CHECK.clear()


def _events(runtime: Runtime, exec_id: str) -> list[str]:
    return [a.name for a in runtime.backend.list_artifacts(exec_id) if a.save_type == "event"]


def test_flow_body_runs_become_numbered_llm_call_checkpoints(memory_runtime: Runtime) -> None:
    handle = two_runs.run("go")
    assert handle.wait(timeout=30) == "sum is 5|sum is 5|hi"
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [(c.invocation_id, c.name, c.checkpoint_type) for c in execution.checkpoints] == [
        ("calc_agent_run_1", "calc_agent_run", "llm_call"),
        ("calc_agent_run_2", "calc_agent_run", "llm_call"),
        ("Other_Agent_agent_run_1", "Other_Agent_agent_run", "llm_call"),
    ]
    # The checkpoint's value is the run result's public JSON form.
    (output_artifact,) = [
        a for a in execution.checkpoints[0].artifacts if a.save_type == "step_output"
    ]
    output = output_artifact.load()
    assert output["output"] == "sum is 5" and len(output["messages"]) == 6


def test_events_lineage_usage_and_artifacts(memory_runtime: Runtime) -> None:
    handle = two_runs.run("go")
    handle.wait(timeout=30)
    execution = KitaruClient().executions.get(handle.exec_id)
    call = execution.checkpoints[0]
    events = call.metadata["pydantic_ai_events"]
    ((label, summary),) = call.metadata["pydantic_ai_run_summaries"].items()
    assert len(label) == 8 and int(label, 16) >= 0
    ids = [
        f"calc_{label}_{kind}"
        for kind in ("llm_call_1", "tool_call_1", "llm_call_2", "tool_call_2", "llm_call_3")
    ]
    assert summary["event_ids_in_order"] == ids
    assert {
        k: summary[k]
        for k in (
            "agent_name",
            "status",
            "model_call_count",
            "tool_call_count",
            "total_events",
            "turn_count",
        )
    } == {
        "agent_name": "calc",
        "status": "completed",
        "model_call_count": 3,
        "tool_call_count": 2,
        "total_events": 5,
        "turn_count": 3,
    }
    m1, t1, m2, t2, m3 = (events[i] for i in ids)
    assert m1["type"] == "llm_call" and m1["parent_event_ids"] == []
    assert m1["model_name"] == "function:calc_model:" and m1["turn_index"] == 1
    assert m1["usage"]["total_tokens"] == m1["usage"]["input_tokens"] + m1["usage"]["output_tokens"]
    assert t1["fan_out_from"] == ids[0] and t1["parent_event_ids"] == [ids[0]]
    assert (t1["tool_name"], t1["toolset_kind"], t1["hitl"]) == ("add", "function", False)
    assert m2["fan_in_from"] == [ids[1]] and m2["turn_index"] == 2
    assert t2["fan_out_from"] == ids[2] and m3["fan_in_from"] == [ids[3]]
    assert [e["sequence_index"] for e in (m1, t1, m2, t2, m3)] == [0, 1, 2, 3, 4]
    assert all(
        e["status"] == "completed" and not e["replayed"] and e["duration_ms"] >= 0
        for e in events.values()
    )
    artifacts = {a.name: a for a in call.artifacts}
    assert t1["artifacts"] == [f"{ids[1]}_args", f"{ids[1]}_result"]
    assert artifacts[f"{ids[1]}_args"].load() == {"a": 2, "b": 3}
    assert artifacts[f"{ids[1]}_result"].load() == 5
    assert artifacts[f"{ids[1]}_args"].kind == "input"
    assert artifacts[f"{ids[1]}_result"].kind == "output"
    prompt = artifacts[f"{ids[2]}_prompt"]
    assert prompt.kind == "prompt" and [m["kind"] for m in prompt.load()] == [
        "request",
        "response",
        "request",
    ]
    response = artifacts[f"{ids[2]}_response"]
    assert response.kind == "response"
    assert response.load()["parts"][0]["tool_name"] == "check"


def test_journal_names_are_pinned(memory_runtime: Runtime) -> None:
    """Persisted event names are compatibility data: renaming strands in-flight executions."""
    handle = two_runs.run("go")
    handle.wait(timeout=30)
    names = _events(memory_runtime, handle.exec_id)
    # A run's id and label are derived from the execution and the call (nothing journaled).
    assert names[:5] == [
        "pydantic_ai:calc__model.request#1",
        "pydantic_ai:calc__function_toolset__<agent>.call_tool:add#1",
        "pydantic_ai:calc__model.request#2",
        "pydantic_ai:calc__function_toolset__<agent>.call_tool:check#1",
        "pydantic_ai:calc__model.request#3",
    ]


@flow
def one_run(prompt: str) -> str:
    return wrapped_calc.run_sync(prompt).output


def test_retry_replays_completed_requests_and_tool_calls(memory_runtime: Runtime) -> None:
    FAIL_CHECK.append(True)
    handle = one_run.run("go")
    with pytest.raises(Exception, match="check crashed"):
        handle.wait(timeout=30)
    assert CALLS == ["model1", "add", "model2", "check"]
    client = KitaruClient()
    client.executions.retry(handle.exec_id)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "sum is 5"
    # model1, add and model2 were replayed from the journal; check and model3 ran.
    assert CALLS == ["model1", "add", "model2", "check", "check", "model3"]
    (call,) = client.executions.get(handle.exec_id).checkpoints
    events = call.metadata["pydantic_ai_events"]
    # The run kept its label across the restart, so the replayed events kept their ids.
    (label,) = call.metadata["pydantic_ai_run_summaries"]
    assert len(label) == 8 and all(event_id.startswith(f"calc_{label}_") for event_id in events)
    artifact_names = {a.name for a in client.executions.get(handle.exec_id).artifacts}
    assert {f"calc_{label}_llm_call_1_prompt", f"calc_{label}_tool_call_1_args"} <= artifact_names
    assert [e["replayed"] for e in sorted(events.values(), key=lambda e: e["sequence_index"])] == [
        True,
        True,
        True,
        False,
        False,
    ]
    # The replayed events' artifacts were saved once, by the first attempt.
    names = [a.name for a in client.executions.get(handle.exec_id).artifacts]
    assert len(names) == len(set(names))


class Verdict(BaseModel):
    ok: bool
    reason: str


judge = kp.wrap(
    Agent(
        TestModel(custom_output_args={"ok": True, "reason": "fine"}),
        name="judge",
        output_type=Verdict,
    )
)
FAIL_AFTER: list[bool] = []


@checkpoint
def after(reason: str) -> str:
    if FAIL_AFTER:
        FAIL_AFTER.pop()
        raise RuntimeError("later step failed")
    return reason.upper()


@flow
def judged() -> str:
    verdict = judge.run_sync("judge this").output
    assert isinstance(verdict, Verdict), type(verdict)
    return after(verdict.reason)


def test_structured_output_keeps_its_type_when_read_back(memory_runtime: Runtime) -> None:
    FAIL_AFTER.append(True)
    handle = judged.run()
    with pytest.raises(Exception, match="later step failed"):
        handle.wait(timeout=30)
    KitaruClient().executions.retry(handle.exec_id)
    # On the retry the agent-run checkpoint returns its recorded value: still a Verdict.
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "FINE"


@checkpoint
def explicit(prompt: str) -> str:
    return wrapped_calc.run_sync(prompt).output


@flow
def in_explicit_checkpoint(prompt: str) -> str:
    return explicit(prompt)


def test_runs_inside_an_explicit_checkpoint_are_tracked_there(memory_runtime: Runtime) -> None:
    handle = in_explicit_checkpoint.run("go")
    assert handle.wait(timeout=30) == "sum is 5"
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert call.invocation_id == "explicit"
    assert len(call.metadata["pydantic_ai_events"]) == 5


@flow
def async_body() -> str:
    async def main() -> str:
        first = await judge.run("a")
        second = await judge.run("b")
        return f"{type(first.output).__name__} {second.output.reason}"

    return asyncio.run(main())


def test_async_run_in_the_flow_body(memory_runtime: Runtime) -> None:
    handle = async_body.run()
    assert handle.wait(timeout=30) == "Verdict fine"
    ids = [c.invocation_id for c in KitaruClient().executions.get(handle.exec_id).checkpoints]
    assert ids == ["judge_agent_run_1", "judge_agent_run_2"]


@flow
def overridden() -> str:
    with judge.override(model=TestModel(custom_output_args={"ok": False, "reason": "o"})):
        first = judge.run_sync("x").output.reason
    model = TestModel(custom_output_args={"ok": False, "reason": "per-run"})
    return first + "/" + judge.run_sync("x", model=model).output.reason


def test_model_override_and_per_run_model_inside_a_flow(memory_runtime: Runtime) -> None:
    handle = overridden.run()
    assert handle.wait(timeout=30) == "o/per-run"
    names = _events(memory_runtime, handle.exec_id)
    assert "pydantic_ai:judge__model.request.override#1" in names
    assert "pydantic_ai:judge__model.request.run#1" in names


quiet_calc = kp.wrap(
    calc,
    name="quiet",
    tool_capture_config=kp.CaptureConfig(mode="metadata_only"),
    tool_capture_config_by_name={"check": None},
)


@flow
def quiet_run() -> str:
    return quiet_calc.run_sync("go").output


def test_capture_modes(memory_runtime: Runtime) -> None:
    handle = quiet_run.run()
    handle.wait(timeout=30)
    execution = KitaruClient().executions.get(handle.exec_id)
    (call,) = execution.checkpoints
    events = call.metadata["pydantic_ai_events"]
    tools = [e for e in events.values() if e["type"] == "tool_call"]
    assert [(t["tool_name"], t["capture_mode"], t["artifacts"]) for t in tools] == [
        ("add", "metadata_only", [])
    ]
    assert sum(e["type"] == "llm_call" for e in events.values()) == 3
    assert not [a for a in execution.artifacts if a.name.endswith(("_args", "_result"))]
    # Capture is observation only: the untracked tool call is still journaled for replay.
    assert "pydantic_ai:quiet__function_toolset__<agent>.call_tool:check#1" in _events(
        memory_runtime, handle.exec_id
    )


def test_uncaptured_calls_are_counted_in_the_summary(memory_runtime: Runtime) -> None:
    """Capture "off" leaves a call without an event, not out of the counts or the lineage."""
    handle = quiet_run.run()
    handle.wait(timeout=30)
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    events = call.metadata["pydantic_ai_events"]
    ((_, summary),) = call.metadata["pydantic_ai_run_summaries"].items()
    counts = (
        "model_call_count",
        "tool_call_count",
        "uncaptured_model_call_count",
        "uncaptured_tool_call_count",
        "total_events",
    )
    # 3 requests and 2 calls (add, check) were made; check's capture is off.
    assert [summary[k] for k in counts] == [3, 2, 0, 1, 4]
    m1, t1, m2, m3 = (events[i] for i in summary["event_ids_in_order"])
    assert t1["tool_name"] == "add" and m2["fan_in_from"] == [summary["event_ids_in_order"][1]]
    assert "uncaptured_fan_in_count" not in m2
    # check has no event id: m3 fans in nothing it can name, and says one call is missing.
    assert m3["fan_in_from"] == [] and m3["uncaptured_fan_in_count"] == 1
    assert m3["parent_event_ids"] == [summary["event_ids_in_order"][2]]


lean_calc = kp.wrap(calc, name="lean", model_capture_config=kp.CaptureConfig(mode="metadata_only"))
silent_calc = kp.wrap(calc, name="silent", model_capture_config=kp.CaptureConfig(mode="off"))


@flow
def lean_runs() -> str:
    return lean_calc.run_sync("go").output + silent_calc.run_sync("go").output


def test_model_capture_config(memory_runtime: Runtime) -> None:
    handle = lean_runs.run()
    handle.wait(timeout=30)
    lean, silent = KitaruClient().executions.get(handle.exec_id).checkpoints
    models = [e for e in lean.metadata["pydantic_ai_events"].values() if e["type"] == "llm_call"]
    assert len(models) == 3
    assert all(m["artifacts"] == [] and m["usage"]["total_tokens"] > 0 for m in models)
    assert not [a for a in lean.artifacts if a.name.endswith(("_prompt", "_response"))]
    assert [e["type"] for e in silent.metadata["pydantic_ai_events"].values()] == [
        "tool_call",
        "tool_call",
    ]
    ((_, summary),) = silent.metadata["pydantic_ai_run_summaries"].items()
    # Capture is observation only: uncaptured requests are still counted.
    assert {k: summary[k] for k in ("turn_count", "model_call_count", "total_events")} == {
        "turn_count": 3,
        "model_call_count": 3,
        "total_events": 2,
    }
    assert summary["uncaptured_model_call_count"] == 3


async def _stream(messages: list[ModelMessage], info: AgentInfo) -> Any:
    CALLS.append("stream")
    for chunk in ("hello ", "streamed"):
        yield chunk


streamer = kp.wrap(Agent(FunctionModel(calc_model, stream_function=_stream), name="streamer"))


@checkpoint
def streamed() -> str:
    async def main() -> str:
        async with streamer.run_stream("hi") as result:
            return await result.get_output()

    return asyncio.run(main())


@flow
def streaming() -> str:
    return streamed()


@flow
def iter_in_body() -> str:
    async def main() -> str:
        async with streamer.run_stream("hi") as result:
            return await result.get_output()

    try:
        return asyncio.run(main())
    except KitaruUsageError as exc:
        return str(exc)


def test_streaming_inside_a_checkpoint_and_refused_in_the_body(memory_runtime: Runtime) -> None:
    handle = streaming.run()
    assert handle.wait(timeout=30) == "hello streamed"
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    (event,) = call.metadata["pydantic_ai_events"].values()
    assert event["streaming"] is True and event["usage"]["output_tokens"] > 0
    assert "pydantic_ai:streamer__model.request_stream#1" in _events(memory_runtime, handle.exec_id)
    message = iter_in_body.run().wait(timeout=30)
    assert "not durable" in message and "run_sync()" in message


SEEN: list[str] = []


async def handler(ctx: Any, events: Any) -> None:
    async for event in events:
        SEEN.append(event.event_kind)


@flow
def with_handler() -> str:
    return streamer.run_sync("go", event_stream_handler=handler).output


def test_event_stream_handler_calls_are_tracked(memory_runtime: Runtime) -> None:
    SEEN.clear()
    handle = with_handler.run()
    assert handle.wait(timeout=30) == "hello streamed"
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    handlers = call.metadata["pydantic_ai_event_stream_handlers"]
    ((label, summary),) = call.metadata["pydantic_ai_run_summaries"].items()
    assert summary["event_stream_handler"]["call_count"] == len(handlers) >= 1
    first = handlers[f"streamer_{label}_event_stream_handler_1"]
    assert first["status"] == "completed" and first["stream_event_count"] > 0
    assert sum(h["stream_event_count"] for h in handlers.values()) == len(SEEN)


def retry_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    if _responses(messages) < 2:
        return ModelResponse(parts=[ToolCallPart("picky", {"value": _responses(messages)})])
    return ModelResponse(parts=[TextPart(str(messages[-1].parts[0].content))])


picky_agent = Agent(FunctionModel(retry_model), name="picky")


@picky_agent.tool_plain
def picky(value: int) -> str:
    if value == 0:
        raise ModelRetry("try a bigger value")
    return f"accepted {value}"


picky_wrapped = kp.wrap(picky_agent)


@flow
def retrying() -> str:
    return picky_wrapped.run_sync("go").output


def test_a_tool_asking_for_a_retry_is_a_failed_event(memory_runtime: Runtime) -> None:
    handle = retrying.run()
    assert handle.wait(timeout=30) == "accepted 1"
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    tools = sorted(
        (e for e in call.metadata["pydantic_ai_events"].values() if e["type"] == "tool_call"),
        key=lambda e: e["sequence_index"],
    )
    assert [(t["status"], t.get("error")) for t in tools] == [
        ("failed", {"type": "model_retry", "message": "try a bigger value"}),
        ("completed", None),
    ]
