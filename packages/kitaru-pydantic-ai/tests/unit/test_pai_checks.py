"""Input checks: ``kp.wrap``, ``kp.CaptureConfig`` and ``kp.hitl_tool`` refuse bad arguments at
once with a ``KitaruUsageError`` naming the argument, and ``kp.wrap`` refuses what a run in a
flow would refuse (deferred tools, toolsets without an id, capture names that match no tool)."""

from __future__ import annotations

import re
from typing import Any

import kitaru_pydantic_ai as kp
import pytest
from kitaru.errors import KitaruUsageError
from pydantic_ai import Agent, FunctionToolset, Tool
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import ExternalToolset


def _agent(**kwargs: Any) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(TestModel(), name="checked", **kwargs)

    @agent.tool_plain
    def lookup(key: str) -> str:
        return key

    return agent


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": 5}, r"kp\.wrap\(name=\.\.\.\) must be a string"),
        ({"name": "!!!"}, r"kp\.wrap\(name='!!!'\) has no letters, digits or '_'"),
        ({"name": ""}, r"kp\.wrap\(name=''\) has no letters"),
        ({"tool_capture_config": "off"}, r"tool_capture_config=\.\.\.\) must be a kp\.Capture"),
        ({"model_capture_config": {"mode": "off"}}, r"model_capture_config=\.\.\.\) must be"),
        ({"tool_capture_config_by_name": ["lookup"]}, r"by_name=\.\.\.\) must be a mapping"),
        ({"tool_capture_config_by_name": {1: None}}, r"keys must be tool names"),
        ({"tool_capture_config_by_name": {"lookup": "off"}}, r"by_name\['lookup'\]\) must be"),
    ],
)
def test_wrap_refuses_arguments_of_the_wrong_type(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(KitaruUsageError, match=match):
        kp.wrap(_agent(), **kwargs)


def test_an_agent_name_without_word_characters_is_refused() -> None:
    with pytest.raises(KitaruUsageError, match=r"The agent's name '\?\?' has no letters"):
        kp.wrap(Agent(TestModel(), name="??"))
    assert kp.wrap(Agent(TestModel(), name="??"), name="ok").kitaru_name == "ok"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"enabled": "no"}, r"CaptureConfig\(enabled=\.\.\.\) must be True, False or None"),
        ({"save_args": 3}, r"CaptureConfig\(save_args=\.\.\.\)"),
        ({"save_result": "yes"}, r"CaptureConfig\(save_result=\.\.\.\)"),
        ({"include_timings": 0}, r"CaptureConfig\(include_timings=\.\.\.\)"),
        ({"mode": None}, r"Unknown capture mode None"),
    ],
)
def test_capture_config_refuses_non_bool_overrides(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(KitaruUsageError, match=match):
        kp.CaptureConfig(**kwargs)


def test_capture_names_must_match_a_tool_when_all_tools_are_known() -> None:
    with pytest.raises(KitaruUsageError, match=r"names no tool of this agent: 'lokup'") as info:
        kp.wrap(_agent(), tool_capture_config_by_name={"lokup": None})
    assert "Its tools: lookup" in str(info.value)
    # Tools of a FunctionToolset of the agent and tools registered as Tool objects count.
    extra = FunctionToolset([Tool(lambda: 1, name="extra")], id="extra")
    kp.wrap(_agent(toolsets=[extra]), tool_capture_config_by_name={"lookup": None, "extra": None})
    # An MCP server's tool names are known only during a run: nothing to check against.
    server = MCPToolset("http://localhost:1/mcp", id="remote")
    kp.wrap(_agent(toolsets=[server]), tool_capture_config_by_name={"remote_tool": None})


def test_wrap_refuses_deferred_tools_with_the_run_time_message() -> None:
    agent = _agent()

    @agent.tool_plain(requires_approval=True)
    def delete_all(x: int) -> str:
        return "deleted"

    with pytest.raises(KitaruUsageError) as info:
        kp.wrap(agent)
    assert "Tool 'delete_all' asked to defer its call (ApprovalRequired)" in str(info.value)
    assert "kp.hitl_tool(" in str(info.value)
    external = ExternalToolset([ToolDefinition(name="later")], id="ext")
    with pytest.raises(KitaruUsageError, match=r"'later' asked to defer its call \(CallDeferred\)"):
        kp.wrap(_agent(toolsets=[external]))


@pytest.mark.parametrize(
    "toolset",
    [MCPToolset("http://localhost:1/mcp"), FunctionToolset()],
    ids=["mcp-url", "function"],
)
def test_wrap_refuses_a_toolset_without_an_id(toolset: Any) -> None:
    """PydanticAI's own message, given by kp.wrap instead of the first run in a flow."""
    with pytest.raises(KitaruUsageError, match=r"need to have a unique `id`.*Kitaru"):
        kp.wrap(_agent(toolsets=[toolset]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"question": 5}, r"kp\.hitl_tool\(question=\.\.\.\) must be a string"),
        ({"timeout": "5"}, r"kp\.hitl_tool\(timeout=\.\.\.\) must be a number of seconds >= 0"),
        ({"timeout": -1}, r"timeout=\.\.\.\) must be a number"),
        ({"timeout": True}, r"timeout=\.\.\.\) must be a number"),
        ({"timeout": float("inf")}, r"timeout=\.\.\.\) must be a number"),
        ({"schema": 3}, r"kp\.hitl_tool\(schema=\.\.\.\) must be a type pydantic understands"),
        ({"name": ""}, r"kp\.hitl_tool\(name=\.\.\.\) must be a non-empty string"),
        ({"name": 7}, r"kp\.hitl_tool\(name=\.\.\.\)"),
    ],
)
def test_hitl_tool_checks_its_arguments_when_it_marks(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(KitaruUsageError, match=match):
        kp.hitl_tool(**kwargs)
    assert kp.hitl_tool(question="ok?", schema=bool, timeout=0, name="ask") is not None


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"models": ["x"]}, "models=...) must map names to model instances"),
        ({"models": {"a": "openai:gpt-5"}}, "models=...) must map names to model instances"),
        ({"name": 5}, "name=...) must be a non-empty string or None"),
        ({"name": " "}, "name=...) must be a non-empty string or None"),
    ],
)
def test_kitaru_durability_checks_its_arguments(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(KitaruUsageError, match=re.escape(needle)):
        kp.KitaruDurability(**kwargs)


def test_a_positional_hitl_question_says_to_pass_it_by_name() -> None:
    with pytest.raises(KitaruUsageError, match=re.escape("@kp.hitl_tool(question='Approve?')")):
        kp.hitl_tool("Approve?")  # type: ignore[arg-type]
