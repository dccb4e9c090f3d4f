"""Storage layout of ``KitaruCheckpointSaver``: a growing message list stores each message once,
large values go to the artifact store, ``delete_thread`` removes a thread's documents, and
``prune`` / ``copy_thread`` keep a thread usable."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from kitaru.artifacts import LocalArtifactStore
from kitaru.runtime import Runtime
from kitaru.testing import MemoryBackend
from kitaru_langgraph import KitaruCheckpointSaver
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph


def _chat(state: MessagesState) -> dict[str, list[AIMessage]]:
    return {"messages": [AIMessage(f"answer {len(state['messages'])}" + "x" * 300)]}


def _graph(saver: KitaruCheckpointSaver) -> object:
    builder = StateGraph(MessagesState)
    builder.add_node("chat", _chat)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", END)
    return builder.compile(checkpointer=saver)


def _runtime(tmp_path: Path) -> Runtime:
    return Runtime(backend=MemoryBackend(), artifact_store=LocalArtifactStore(str(tmp_path)))


def test_each_message_is_stored_once(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path / "a")
    saver = KitaruCheckpointSaver(runtime=runtime)
    graph = _graph(saver)
    cfg = {"configurable": {"thread_id": "t"}}
    for i in range(10):
        out = graph.invoke({"messages": [HumanMessage(f"q{i}")]}, cfg, durability="sync")  # type: ignore[attr-defined]
    assert len(out["messages"]) == 20
    blobs = runtime.backend.list_documents(saver.namespaces["x"])
    answers = [b for b in blobs if b"x" * 300 in base64.b64decode(b.value["b64"])]
    # Each answer at most twice (the node's write, before ``add_messages`` gives it an id, and
    # the channel value), not once per checkpoint that holds it (1 + 2 + ... + 10 = 55).
    assert 10 <= len(answers) <= 20
    # A fresh saver (another process) reads the same state back.
    again = KitaruCheckpointSaver(runtime=runtime).get_tuple(cfg)
    assert again is not None
    assert [m.content for m in again.checkpoint["channel_values"]["messages"]] == [
        m.content for m in out["messages"]
    ]


def test_large_values_go_to_the_artifact_store_and_delete_thread(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path / "a")
    saver = KitaruCheckpointSaver(runtime=runtime, artifact_threshold=200)
    graph = _graph(saver)
    cfg = {"configurable": {"thread_id": "t"}}
    graph.invoke({"messages": [HumanMessage("q")]}, cfg, durability="sync")  # type: ignore[attr-defined]
    blobs = runtime.backend.list_documents(saver.namespaces["x"])
    assert any("payload" in b.value for b in blobs)
    assert KitaruCheckpointSaver(runtime=runtime).get_tuple(cfg) is not None
    saver.delete_thread("t")
    assert saver.get_tuple(cfg) is None
    for kind in ("c", "w", "v"):
        assert runtime.backend.list_documents(saver.namespaces[kind]) == []


def test_prune_keeps_the_latest_state_and_drops_unreferenced_values(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    saver = KitaruCheckpointSaver(runtime=runtime)
    graph: Any = _graph(saver)
    cfg = {"configurable": {"thread_id": "p"}}
    for i in range(5):
        graph.invoke({"messages": [HumanMessage(f"q{i}")]}, cfg, durability="sync")
    before = graph.get_state(cfg).values["messages"]
    values = saver.namespaces["v"]
    stored = len(runtime.backend.list_documents(values, prefix="v/p/"))
    saver.prune(["p"])
    assert len(list(saver.list(cfg))) == 1
    assert graph.get_state(cfg).values["messages"] == before
    assert len(runtime.backend.list_documents(values, prefix="v/p/")) < stored
    graph.invoke({"messages": [HumanMessage("after")]}, cfg, durability="sync")  # goes on
    assert len(graph.get_state(cfg).values["messages"]) == len(before) + 2
    saver.copy_thread("p", "p2")
    copied = graph.get_state({"configurable": {"thread_id": "p2"}}).values
    assert copied == graph.get_state(cfg).values
