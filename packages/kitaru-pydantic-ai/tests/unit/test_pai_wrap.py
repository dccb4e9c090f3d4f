"""The adapter's surface: discovery through ``kitaru.adapters``, ``wrap()`` validation and
naming, capture configuration, and plain behaviour outside a flow."""

from __future__ import annotations

import asyncio
from typing import Any

import kitaru_pydantic_ai as kp
import pytest
from kitaru import FlowHandle, KitaruClient, flow
from kitaru.errors import KitaruUsageError, KitaruUserCodeError
from kitaru.plugins import list_plugins
from kitaru.runtime import Runtime
from kitaru_pydantic_ai._agent import normalize_name
from kitaru_pydantic_ai._capture import CapturePolicy
from pydantic import BaseModel
from pydantic_ai import Agent, Tool
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel


def test_adapter_resolves_through_kitaru_adapters() -> None:
    from kitaru.adapters import pydantic_ai

    assert pydantic_ai is kp
    assert sorted(kp.__all__) == kp.__all__
    assert {"wrap", "hitl_tool", "KitaruMCPToolset", "CaptureConfig"} <= set(kp.__all__)


def test_plugin_is_listed_with_its_distribution() -> None:
    (info,) = [p for p in list_plugins() if p.name == "pydantic_ai"]
    assert info.distribution == "kitaru-pydantic-ai"
    assert info.version == "0.1.0"
    assert info.hooks == ("kitaru_register_adapters",)


def test_wrap_needs_an_agent_with_a_model() -> None:
    with pytest.raises(KitaruUsageError, match="needs an agent with a model"):
        kp.wrap(Agent(name="nomodel"))
    with pytest.raises(KitaruUsageError, match="PydanticAI agent"):
        kp.wrap("not an agent")  # type: ignore[arg-type]
    wrapped = kp.wrap(Agent(TestModel()))
    with pytest.raises(KitaruUsageError, match="already wrapped"):
        kp.wrap(wrapped)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Support Bot!", "Support_Bot"),
        ("__x__", "x"),
        ("", "agent"),
        (None, "agent"),
        ("a--b  c", "a_b_c"),
        ("日本", "日本"),
    ],
)
def test_names_are_normalized(raw: str | None, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_name_defaults_to_agent_name_then_agent() -> None:
    assert kp.wrap(Agent(TestModel(), name="Research Agent")).kitaru_name == "Research_Agent"
    assert kp.wrap(Agent(TestModel())).kitaru_name == "agent"
    assert kp.wrap(Agent(TestModel(), name="x"), name="given").kitaru_name == "given"


def test_capture_config_modes_and_overrides() -> None:
    full = kp.CaptureConfig().resolve()
    assert (full.enabled, full.save_args, full.save_result, full.include_timings) == (
        True,
        True,
        True,
        True,
    )
    meta = kp.CaptureConfig(mode="metadata_only").resolve()
    assert (meta.enabled, meta.save_args, meta.save_result, meta.include_timings) == (
        True,
        False,
        False,
        True,
    )
    off = kp.CaptureConfig(mode="off").resolve()
    assert not off.enabled and not off.save_args
    custom = kp.CaptureConfig(
        mode="metadata_only", save_result=True, include_timings=False
    ).resolve()
    assert (custom.save_args, custom.save_result, custom.include_timings) == (False, True, False)
    with pytest.raises(ValueError, match="Unknown capture mode"):
        kp.CaptureConfig(mode="verbose")  # type: ignore[arg-type]
    policy = CapturePolicy(
        kp.CaptureConfig(mode="metadata_only"), {"secret": None, "loud": kp.CaptureConfig()}
    )
    assert policy.for_tool("other").mode == "metadata_only"
    assert not policy.for_tool("secret").enabled
    assert policy.for_tool("loud").save_args
    with pytest.raises(KitaruUsageError, match=r"tool_capture_config=\.\.\.\) must be"):
        CapturePolicy("full")  # type: ignore[arg-type]


CALLS: list[str] = []


def _scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    CALLS.append("model")
    if len(messages) == 1:
        return ModelResponse(parts=[ToolCallPart("ask", {"question": "ok?"})])
    return ModelResponse(parts=[TextPart(f"answer: {messages[-1].parts[0].content}")])


def test_outside_a_flow_the_wrapped_agent_is_the_plain_agent() -> None:
    plain = Agent(FunctionModel(_scripted), name="helper")

    @plain.tool_plain
    @kp.hitl_tool(question="Is it ok?", schema=str)
    def ask(question: str) -> str:
        """Ask someone."""
        return "the body ran"

    wrapped = kp.wrap(plain)
    CALLS.clear()
    assert asyncio.run(wrapped.run("hi")).output == "answer: the body ran"
    result = wrapped.run_sync("hi")  # (its event loop stays set on this thread, as PydanticAI does)
    assert result.output == "answer: the body ran"
    assert CALLS == ["model"] * 4
    assert wrapped.name == "helper" and wrapped.wrapped is plain
    # The hitl tool keeps the function's schema, name and docstring.
    (tool_def,) = plain._function_toolset.tools.values()  # noqa: SLF001 - checking the schema
    assert tool_def.name == "ask" and tool_def.description == "Ask someone."


def test_hitl_tool_marks_a_tool_object_and_refuses_twice() -> None:
    def approve(amount: int) -> bool:
        return False

    tool = kp.hitl_tool(question="Approve?", schema=bool)(Tool(approve, name="approve_it"))
    assert isinstance(tool, Tool) and tool.name == "approve_it"
    assert tool.function.__kitaru_hitl__.name == "approve_it"
    with pytest.raises(KitaruUsageError, match="already a hitl tool"):
        kp.hitl_tool(tool.function)
    with pytest.raises(KitaruUsageError, match="function or a Tool"):
        kp.hitl_tool(42)


def test_mcp_toolset_needs_an_id() -> None:
    with pytest.raises(KitaruUsageError, match="explicit id"):
        kp.KitaruMCPToolset("http://localhost:1/mcp", id="")


_answering = kp.wrap(Agent(TestModel(custom_output_text="from the model"), name="answerer"))


@flow
def answer_flow() -> str:
    return str(_answering.run_sync("go").output)


def test_replay_override_of_an_agent_run(memory_runtime: Runtime) -> None:
    """An agent run's checkpoint is overridden with {"output": ...}; any other shape fails the
    replay with a message that shows the expected one."""
    client = KitaruClient()
    source = answer_flow.run()
    assert source.wait(timeout=30) == "from the model"
    edited = client.executions.replay(
        source.exec_id,
        from_="answerer_agent_run_1",
        overrides={"checkpoint.answerer_agent_run_1": {"output": "edited"}},
    )
    assert FlowHandle(edited.exec_id).wait(timeout=30) == "edited"
    wrong = client.executions.replay(
        source.exec_id,
        from_="answerer_agent_run_1",
        overrides={"checkpoint.answerer_agent_run_1": "edited"},
    )
    with pytest.raises(KitaruUserCodeError) as info:
        FlowHandle(wrong.exec_id).wait(timeout=30)
    assert "is not an agent run result" in str(info.value)
    assert 'must look like {"output": <the agent\'s output>}' in str(info.value)
    assert "at the top level: Input should be a dictionary" in str(info.value)


class Verdict(BaseModel):
    ok: bool
    reason: str


_judging = kp.wrap(
    Agent(
        TestModel(custom_output_args={"ok": True, "reason": "r"}), name="judge", output_type=Verdict
    )
)


@flow
def judge_flow() -> bool:
    return _judging.run_sync("go").output.ok


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"outputs": {"ok": False, "reason": "x"}}, ["at output: Field required"]),
        (
            {"output": {"ok": "maybe"}},
            ["at output.ok: Input should be a valid boolean", "at output.reason: Field required"],
        ),
    ],
)
def test_a_wrong_replay_override_names_the_field_and_the_output_type(
    memory_runtime: Runtime, override: dict[str, Any], expected: list[str]
) -> None:
    client = KitaruClient()
    source = judge_flow.run()
    assert source.wait(timeout=30) is True
    wrong = client.executions.replay(
        source.exec_id,
        from_="judge_agent_run_1",
        overrides={"checkpoint.judge_agent_run_1": override},
    )
    with pytest.raises(KitaruUserCodeError) as info:
        FlowHandle(wrong.exec_id).wait(timeout=30)
    message = str(info.value)
    assert all(part in message for part in expected), message
    assert "the output being a Verdict (as JSON)" in message
