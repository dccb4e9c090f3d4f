"""A PydanticAI refund-desk agent made durable with Kitaru (offline: a scripted FunctionModel).

Run it with ``python examples/pydantic_ai_agent.py``. The agent looks an order up, then asks
a human to approve the refund through a hitl tool. The execution suspends on that wait (this
process keeps no runner busy), the approval is given from a *second process*, and a worker
process continues the agent run: the model request and the tool call made before the wait
are replayed from the journal, not sent again. The script prints the tracked events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from kitaru import FlowHandle, KitaruClient, flow
from kitaru.adapters import pydantic_ai as kp
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


def refund_desk_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Stands in for an LLM: look the order up, ask for approval, then answer."""
    turn = sum(1 for m in messages if m.kind == "response")
    if turn == 0:
        return ModelResponse(parts=[ToolCallPart("lookup_order", {"order_id": "A-17"})])
    if turn == 1:
        order = messages[-1].parts[0].content
        return ModelResponse(
            parts=[
                ToolCallPart("approve_refund", {"order_id": order["id"], "amount": order["total"]})
            ]
        )
    approved = messages[-1].parts[0].content
    verdict = "is on its way" if approved else "was declined"
    return ModelResponse(parts=[TextPart(f"Your refund for order A-17 {verdict}.")])


agent = Agent(
    FunctionModel(refund_desk_model),
    name="refund_desk",
    instructions="Help customers with refunds.",
)


@agent.tool_plain
def lookup_order(order_id: str) -> dict[str, object]:
    """Look an order up in the shop's database."""
    return {"id": order_id, "total": 40.0, "status": "delivered damaged"}


@agent.tool_plain
@kp.hitl_tool(question="Approve this refund?", schema=bool, timeout=0)
def approve_refund(order_id: str, amount: float) -> bool:
    """Ask a human to approve a refund. (timeout=0: suspend at once, hold no runner.)"""
    return False  # outside a flow, with no human around: decline


refund_desk = kp.wrap(agent)


@flow
def handle_ticket(message: str) -> str:
    return refund_desk.run_sync(message).output  # checkpoint refund_desk_agent_run_1


def _approve_from_another_process(exec_id: str) -> None:
    code = (
        "import sys; from kitaru import KitaruClient; "
        "KitaruClient().executions.input(sys.argv[1], wait='approve_refund', value=True)"
    )
    subprocess.run([sys.executable, "-c", code, exec_id], check=True)


def main() -> None:
    os.environ.setdefault("KITARU_NO_PROMPT", "1")  # answer from a second process, not here
    handle = handle_ticket.run("Order A-17 arrived broken, I want my 40 EUR back.")
    print(f"started execution {handle.exec_id}")
    client = KitaruClient()
    while client.executions.get(handle.exec_id).status.value != "waiting":
        time.sleep(0.05)
    (pending,) = client.executions.pending_waits(handle.exec_id)
    print(f"waiting on '{pending.name}': {pending.question} {json.dumps(pending.metadata)}")
    print("approving from a second process ...")
    _approve_from_another_process(handle.exec_id)
    result = FlowHandle(handle.exec_id).wait(timeout=120)
    print(f"result: {result!r}")

    (call,) = client.executions.get(handle.exec_id).checkpoints
    print(f"checkpoint {call.invocation_id} ({call.checkpoint_type}) events:")
    events = sorted(
        call.metadata["pydantic_ai_events"].items(), key=lambda item: item[1]["sequence_index"]
    )
    for event_id, event in events:
        what = event.get("tool_name") or event.get("model_name")
        how = "replayed from the journal" if event["replayed"] else "ran"
        print(f"  {event_id:40} {event['type']:9} {what:28} {how}")
    print(
        json.dumps(
            {"exec_id": handle.exec_id, "replayed": [event["replayed"] for _, event in events]}
        )
    )


if __name__ == "__main__":
    main()
