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
