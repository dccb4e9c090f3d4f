"""MCP tools through ``KitaruMCPToolset`` against a real local stdio MCP server: tracked as
events of kind ``mcp``, journaled, and not called again when the agent run is retried."""

from __future__ import annotations

import sys
from pathlib import Path

import kitaru_pydantic_ai as kp
import pytest
from fastmcp.client.transports import StdioTransport
from kitaru import FlowHandle, KitaruClient, flow
from kitaru.runtime import Runtime
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

SERVER = Path(__file__).with_name("pai_mcp_server.py")
FAIL_FINAL: list[bool] = []
MODEL_CALLS: list[int] = []


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    n = sum(1 for m in messages if m.kind == "response") + 1
    MODEL_CALLS.append(n)
    if n == 1:
        return ModelResponse(parts=[ToolCallPart("lookup_order", {"order_id": "A7"})])
    if FAIL_FINAL:
        FAIL_FINAL.pop()
        raise RuntimeError("model outage")
    return ModelResponse(parts=[TextPart(str(messages[-1].parts[0].content))])


def _agent(calls: Path) -> kp.KitaruAgent:
    transport = StdioTransport(
        command=sys.executable, args=[str(SERVER)], env={"PAI_MCP_CALLS": str(calls)}
    )
    toolset = kp.KitaruMCPToolset(transport, id="orders")
    assert transport.keep_alive is False  # each run opens (and closes) its own session
    return kp.wrap(Agent(FunctionModel(model), name="orders", toolsets=[toolset]))


AGENTS: dict[str, kp.KitaruAgent] = {}


@flow
def order_status(key: str) -> str:
    return AGENTS[key].run_sync("where is A7?").output


@pytest.mark.slow
def test_mcp_tool_calls_are_tracked_and_replayed(memory_runtime: Runtime, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    AGENTS["k"] = _agent(calls)
    MODEL_CALLS.clear()
    FAIL_FINAL[:] = [True]
    handle = order_status.run("k")
    with pytest.raises(Exception, match="model outage"):
        handle.wait(timeout=60)
    assert calls.read_text().split() == ["A7"]
    client = KitaruClient()
    client.executions.retry(handle.exec_id)
    assert FlowHandle(handle.exec_id).wait(timeout=60) == "order A7: shipped"
    assert calls.read_text().split() == ["A7"]  # the MCP tool was not called again
    assert MODEL_CALLS == [1, 2, 2]
    execution = client.executions.get(handle.exec_id)
    (call,) = execution.checkpoints
    (tool,) = [e for e in call.metadata["pydantic_ai_events"].values() if e["type"] == "tool_call"]
    assert (tool["tool_name"], tool["toolset_kind"], tool["replayed"]) == (
        "lookup_order",
        "mcp",
        True,
    )
    artifacts = {a.name: a for a in call.artifacts}
    args_name, result_name = tool["artifacts"]
    assert artifacts[args_name].load() == {"order_id": "A7"}
    assert "order A7: shipped" in str(artifacts[result_name].load())
    names = [
        a.name
        for a in memory_runtime.backend.list_artifacts(handle.exec_id)
        if a.save_type == "event"
    ]
    assert "pydantic_ai:orders__mcp_server__orders.get_tools#1" in names
    assert "pydantic_ai:orders__mcp_server__orders.call_tool#1" in names
    # A second execution with the same toolset opens its own session.
    assert order_status.run("k").wait(timeout=60) == "order A7: shipped"
