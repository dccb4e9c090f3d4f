"""A support agent whose refund tool asks a human, run as a script by the hitl test.

The script starts the execution and exits once its runner has suspended on the hitl wait
(the tool's listening window is 0.1 s); input from another process then continues it in a
worker process. Each model request appends its number to ``<folder>/model``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import kitaru_pydantic_ai as kp
from kitaru import flow
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

FOLDER: list[Path] = []


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    n = sum(1 for m in messages if m.kind == "response") + 1
    with (FOLDER[0] / "model").open("a") as f:
        f.write(f"{n}\n")
    if n == 1:
        return ModelResponse(
            parts=[
                ToolCallPart("approve_refund", {"amount": 40, "reason": "late"}, tool_call_id="c-7")
            ]
        )
    return ModelResponse(parts=[TextPart(f"refund approved: {messages[-1].parts[0].content}")])


agent = Agent(FunctionModel(model), name="support")


@agent.tool_plain
@kp.hitl_tool(question="Refund 40 EUR?", name="refund_ok", schema=bool, timeout=0.1)
def approve_refund(amount: int, reason: str) -> bool:
    """Ask a human to approve a refund."""
    return False


support = kp.wrap(agent)


@flow
def support_flow(folder: str) -> str:
    FOLDER[:] = [Path(folder)]
    return support.run_sync("refund my order").output


if __name__ == "__main__":
    handle = support_flow.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    # The interpreter waits for the flow's thread, which ends when the runner suspends.
