"""A refund agent run inside the user's own ``@checkpoint``, run as a script by the hitl test.

Request 1 calls ``lookup``, request 2 calls the hitl tool ``approve_refund``, request 3 answers.
The script starts the execution and exits once its runner has suspended on the hitl wait (the
tool listens 0.1 s); input from another process continues it in a worker process, where the
checkpoint body runs again. Side effects append to files in ``<folder>``: ``model`` (request
numbers), ``lookup`` (tool arguments) and ``body`` (one line per run of the checkpoint body).
"""

from __future__ import annotations

import sys
from pathlib import Path

import kitaru_pydantic_ai as kp
from kitaru import checkpoint, flow
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


def _append(folder: str, name: str, line: str) -> None:
    with Path(folder, name).open("a") as f:
        f.write(f"{line}\n")


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    n = sum(1 for m in messages if m.kind == "response") + 1
    _append(FOLDER[0], "model", str(n))
    if n == 1:
        return ModelResponse(parts=[ToolCallPart("lookup", {"order": 7}, tool_call_id="c-1")])
    if n == 2:
        args = {"amount": 40, "reason": messages[-1].parts[0].content}
        return ModelResponse(parts=[ToolCallPart("approve_refund", args, tool_call_id="c-2")])
    return ModelResponse(parts=[TextPart(f"refund approved: {messages[-1].parts[0].content}")])


FOLDER: list[str] = []
agent = Agent(FunctionModel(model), name="desk")


@agent.tool_plain
def lookup(order: int) -> str:
    """Find an order."""
    _append(FOLDER[0], "lookup", str(order))
    return f"order {order} arrived late"


@agent.tool_plain
@kp.hitl_tool(question="Refund 40 EUR?", name="refund_ok", schema=bool, timeout=0.1)
def approve_refund(amount: int, reason: str) -> bool:
    """Ask a human to approve a refund."""
    return False


desk = kp.wrap(agent)


@checkpoint(type="llm_call")
def handle_refund(folder: str) -> str:
    FOLDER[:] = [folder]
    _append(folder, "body", "run")
    return desk.run_sync("refund my order 7").output


@flow
def refund_flow(folder: str) -> str:
    return handle_refund(folder)


if __name__ == "__main__":
    handle = refund_flow.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    # The interpreter waits for the flow's thread, which ends when the runner suspends.
