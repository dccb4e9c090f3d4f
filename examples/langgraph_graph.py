"""A LangGraph graph run durably by Kitaru: research -> review (a human approves) -> write.

``klg.wrap`` makes every node a ``graph_node`` checkpoint of the execution and keeps the graph's
checkpoints in Kitaru's journal. ``interrupt()`` in ``review`` suspends the execution on a wait
named ``review``; the answer comes from a second process, and the flow continues: ``research``
does not run again. The ``write`` node is LLM-shaped (langchain-core's fake chat model), so the
example runs offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from kitaru import FlowHandle, KitaruClient, flow
from kitaru.adapters import langgraph as klg
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

model = GenericFakeChatModel(
    messages=iter([AIMessage("WAL mode lets readers and a writer work at the same time.")])
)


class State(MessagesState):
    approved: bool


def research(state: State) -> dict[str, Any]:
    print("research runs", file=sys.stderr)
    return {"messages": [AIMessage("notes: WAL = write-ahead log")]}


def review(state: State) -> dict[str, Any]:
    answer = interrupt(
        {"question": "Publish a summary of these notes?", "notes": state["messages"][-1].content}
    )
    return {"approved": answer == "yes"}


def write(state: State) -> dict[str, Any]:
    if not state["approved"]:
        return {"messages": [AIMessage("(not published)")]}
    return {"messages": [model.invoke(state["messages"])]}


builder = StateGraph(State)
builder.add_node("research", research)
builder.add_node("review", review)
builder.add_node("write", write)
builder.add_edge(START, "research")
builder.add_edge("research", "review")
builder.add_edge("review", "write")
builder.add_edge("write", END)
graph = klg.wrap(builder.compile(), wait_timeout=0)  # suspend at once, hold no process


@flow
def summarize(topic: str) -> str:
    out = graph.invoke({"messages": [HumanMessage(topic)], "approved": False})
    return out["messages"][-1].content


def main() -> None:
    client = KitaruClient()
    handle = summarize.run("SQLite WAL")
    while client.executions.get(handle.exec_id).status.value != "waiting":
        time.sleep(0.05)
    (pending,) = client.executions.pending_waits(handle.exec_id)
    print(f"waiting on '{pending.name}': {pending.question}")
    code = (
        "import sys; from kitaru import KitaruClient; "
        "KitaruClient().executions.input(sys.argv[1], wait='review', value='yes')"
    )
    subprocess.run([sys.executable, "-c", code, handle.exec_id], check=True)
    print(f"result: {FlowHandle(handle.exec_id).wait(timeout=120)!r}")
    calls = client.executions.get(handle.exec_id).checkpoints
    print(json.dumps([[c.invocation_id, c.checkpoint_type] for c in calls]))


if __name__ == "__main__":
    main()
