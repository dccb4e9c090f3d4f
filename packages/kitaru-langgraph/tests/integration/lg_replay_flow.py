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


class Chat(TypedDict):
    folder: str
    msgs: Annotated[list[str], operator.add]
    reply: str


def listen(state: Chat) -> dict[str, Any]:
    with Path(state["folder"], "runs").open("a") as f:
        f.write("listen\n")
    return {}


def respond(state: Chat) -> dict[str, Any]:
    with Path(state["folder"], "runs").open("a") as f:
        f.write("respond\n")
    return {"msgs": [f"bot saw {len(state['msgs'])}"], "reply": f"history={state['msgs']}"}


talk = StateGraph(Chat)
talk.add_node("listen", listen)
talk.add_node("respond", respond)
talk.add_edge(START, "listen")
talk.add_edge("listen", "respond")
talk.add_edge("respond", END)
chat_graph = klg.wrap(talk.compile())


@flow
def chat(folder: str, msg: str, thread: str) -> str:
    """A chat session: every execution continues the caller's thread."""
    out = chat_graph.invoke(
        {"folder": folder, "msgs": [msg]}, {"configurable": {"thread_id": thread}}
    )
    return str(out["reply"])


class Scored(TypedDict):
    folder: str
    steps: Annotated[list[str], operator.add]
    score: int


def _scored(name: str, bump: int) -> Any:
    def node(state: Scored) -> dict[str, Any]:
        with Path(state["folder"], "runs").open("a") as f:
            f.write(name + "\n")
        return {"steps": [f"{name}:{state['score']}"], "score": state["score"] + bump}

    return node


scoring = StateGraph(Scored)
scoring.add_node("plan", _scored("plan", 1))
scoring.add_node("slow", _scored("slow", 10))
scoring.add_node("good", _scored("good", 0))
scoring.add_node("bad", _scored("bad", 0))
scoring.add_edge(START, "plan")
scoring.add_edge("plan", "slow")
scoring.add_conditional_edges("slow", lambda s: "good" if s["score"] > 5 else "bad")
scoring.add_edge("good", END)
scoring.add_edge("bad", END)
scored_graph = klg.wrap(scoring.compile())


@flow
def scored(folder: str, score: int = 0) -> list[str]:
    """The graph's input comes from the flow's arguments."""
    return scored_graph.invoke({"folder": folder, "steps": [], "score": score})["steps"]
