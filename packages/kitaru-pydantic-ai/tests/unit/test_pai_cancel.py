"""A cancel requested while a wrapped agent runs stops the run at its next model request or
tool call (before it is sent), not when the whole agent run ends."""

from __future__ import annotations

import threading
import time

import kitaru_pydantic_ai as kp
from kitaru import KitaruClient, flow
from kitaru.durable import CANCEL_POLL_SECONDS
from kitaru.runtime import Runtime
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

SENT: list[int] = []
IN_TOOL = threading.Event()
RELEASE = threading.Event()


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    n = sum(1 for m in messages if m.kind == "response") + 1
    SENT.append(n)
    if n == 1:
        return ModelResponse(parts=[ToolCallPart("slow", {"x": 1})])
    return ModelResponse(parts=[TextPart("done")])


agent = Agent(FunctionModel(model), name="long")


@agent.tool_plain
def slow(x: int) -> int:
    IN_TOOL.set()
    assert RELEASE.wait(timeout=30)
    return x


durable = kp.wrap(agent)


@flow
def long_run() -> str:
    return durable.run_sync("go").output


def test_cancel_stops_the_agent_before_its_next_request(memory_runtime: Runtime) -> None:
    SENT.clear()
    handle = long_run.run()
    assert IN_TOOL.wait(timeout=20)
    client = KitaruClient()
    client.executions.cancel(handle.exec_id)
    time.sleep(CANCEL_POLL_SECONDS + 0.1)
    RELEASE.set()
    deadline = time.monotonic() + 20
    while client.executions.get(handle.exec_id).status.value != "cancelled":
        assert time.monotonic() < deadline, client.executions.get(handle.exec_id).status
        time.sleep(0.02)
    assert SENT == [1]  # request 2 was never sent
    (call,) = client.executions.get(handle.exec_id).checkpoints
    assert (call.invocation_id, call.status.value) == ("long_agent_run_1", "cancelled")
