"""A four-node graph for the replay test: every node appends its name to ``<folder>/runs``."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, Any

import kitaru_langgraph as klg
from kitaru import flow
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict):
    folder: str
    done: Annotated[list[str], operator.add]


def _node(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        with Path(state["folder"], "runs").open("a") as f:
            f.write(name + "\n")
        return {"done": [f"{name}:{len(state['done'])}"]}

    return node


builder = StateGraph(State)
previous = START
for name in ("plan", "search", "draft", "edit"):
    builder.add_node(name, _node(name))
    builder.add_edge(previous, name)
    previous = name
builder.add_edge(previous, END)
graph = klg.wrap(builder.compile())


@flow
def pipeline(folder: str) -> list[str]:
    return graph.invoke({"folder": folder, "done": []})["done"]


inner = StateGraph(State)
inner.add_node("search", _node("search"))
inner.add_node("summarize", _node("summarize"))
inner.add_edge(START, "search")
inner.add_edge("search", "summarize")
inner.add_edge("summarize", END)
outer = StateGraph(State)
outer.add_node("plan", _node("plan"))
outer.add_node("research", inner.compile())
outer.add_node("write", _node("write"))
outer.add_edge(START, "plan")
outer.add_edge("plan", "research")
outer.add_edge("research", "write")
outer.add_edge("write", END)
nested = klg.wrap(outer.compile())


@flow
def nested_pipeline(folder: str) -> list[str]:
    return nested.invoke({"folder": folder, "done": []})["done"]
