"""An agent built with ``capabilities=[kp.KitaruDurability()]`` (PydanticAI's construction-time
attachment) and then wrapped: ``kp.wrap`` uses the agent's own capability instead of giving
one per run, with the same journal, replay and tracking."""

from __future__ import annotations

import asyncio

import kitaru_pydantic_ai as kp
import pytest
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru.runtime import Runtime
from kitaru_pydantic_ai._agent import attached_durability
from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

CALLS: list[str] = []
FAIL_CHECK: list[bool] = []


def calc_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    n = sum(1 for m in messages if m.kind == "response") + 1
    CALLS.append(f"model{n}")
    if n == 1:
        return ModelResponse(parts=[ToolCallPart("add", {"a": 2, "b": 3})])
    if n == 2:
        return ModelResponse(parts=[ToolCallPart("check", {"value": 5})])
    return ModelResponse(parts=[TextPart(f"sum is {messages[-1].parts[0].content}")])


ALT = TestModel(custom_output_text="from alt")
calc = Agent(
    FunctionModel(calc_model),
    name="calc",
    capabilities=[kp.KitaruDurability(models={"alt": ALT})],
)


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


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAIL_CHECK.clear()


@flow
def one_run(prompt: str) -> str:
    return wrapped_calc.run_sync(prompt).output


def test_wrap_uses_the_agents_own_capability() -> None:
    assert attached_durability(calc) is not None
    assert attached_durability(Agent(TestModel())) is None


def test_retry_replays_completed_requests_and_tool_calls(memory_runtime: Runtime) -> None:
    FAIL_CHECK.append(True)
    handle = one_run.run("go")
    with pytest.raises(Exception, match="check crashed"):
        handle.wait(timeout=30)
    assert CALLS == ["model1", "add", "model2", "check"]
    client = KitaruClient()
    client.executions.retry(handle.exec_id)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "sum is 5"
    # model1, add and model2 came from the journal; check and model3 ran.
    assert CALLS == ["model1", "add", "model2", "check", "check", "model3"]
    names = [
        a.name
        for a in memory_runtime.backend.list_artifacts(handle.exec_id)
        if a.save_type == "event"
    ]
    # The same journal names as a capability given per run.
    assert names[:3] == [
        "pydantic_ai:calc__model.request#1",
        "pydantic_ai:calc__function_toolset__<agent>.call_tool:add#1",
        "pydantic_ai:calc__model.request#2",
    ]
    (call,) = client.executions.get(handle.exec_id).checkpoints
    events = sorted(call.metadata["pydantic_ai_events"].values(), key=lambda e: e["sequence_index"])
    assert [e["replayed"] for e in events] == [True, True, True, False, False]
    assert [e["type"] for e in events] == ["llm_call", "tool_call"] * 2 + ["llm_call"]


@flow
def registered_model() -> str:
    return wrapped_calc.run_sync("hi", model=ALT).output


def test_a_registered_model_instance_can_be_chosen_per_run(memory_runtime: Runtime) -> None:
    assert registered_model.run().wait(timeout=30) == "from alt"


@flow
def unregistered_model() -> str:
    return wrapped_calc.run_sync("hi", model=TestModel()).output


def test_an_unregistered_model_instance_names_the_fix(memory_runtime: Runtime) -> None:
    with pytest.raises(Exception, match="models="):
        unregistered_model.run().wait(timeout=30)


bare = Agent(
    TestModel(custom_output_text="bare"), name="bare", capabilities=[kp.KitaruDurability()]
)


@checkpoint
def bare_step() -> str:
    return asyncio.run(bare.run("hi")).output


@flow
def bare_flow() -> str:
    return bare_step()


@flow
def bare_body_flow() -> str:
    return asyncio.run(bare.run("hi")).output


def test_an_unwrapped_agent_with_the_capability_is_refused_in_a_checkpoint(
    memory_runtime: Runtime,
) -> None:
    with pytest.raises(Exception, match=r"inside a checkpoint without kp\.wrap\(\)"):
        bare_flow.run().wait(timeout=30)
    with pytest.raises(Exception, match=r"inside a flow without kp\.wrap\(\)"):
        bare_body_flow.run().wait(timeout=30)
    # Outside a flow it is the plain agent.
    assert asyncio.run(bare.run("hi")).output == "bare"


def test_a_second_capability_per_run_is_still_refused_by_pydantic_ai() -> None:
    with pytest.raises(UserError, match="only one durable execution engine"):
        asyncio.run(calc.run("hi", capabilities=[kp.KitaruDurability()]))
