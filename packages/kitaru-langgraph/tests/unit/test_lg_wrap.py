"""``klg.wrap``: node calls of type ``graph_node``, interrupt -> wait -> resume, plain behaviour
outside a flow, async runs, streaming, and the ``kitaru.adapters.langgraph`` path."""

from __future__ import annotations

import asyncio
import operator
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import kitaru
import kitaru_langgraph as klg
import pytest
from kitaru import FlowHandle, KitaruClient, flow
from kitaru.artifacts import LocalArtifactStore
from kitaru.runtime import Runtime, use_runtime
from kitaru.testing import MemoryBackend
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict

RUNS: dict[str, int] = {}


class State(TypedDict):
    topic: str
    steps: Annotated[list[str], operator.add]


def _node(name: str) -> Callable[[State], dict[str, Any]]:
    def node(state: State) -> dict[str, Any]:
        RUNS[name] = RUNS.get(name, 0) + 1
        return {"steps": [name]}

    return node


def review(state: State) -> dict[str, Any]:
    RUNS["review"] = RUNS.get("review", 0) + 1
    first = interrupt({"question": "approve?", "steps": state["steps"]})
    second = interrupt("really?")
    return {"steps": [f"review={first}/{second}"]}


def _linear(*names: str, checkpointer: Any = None) -> Any:
    builder = StateGraph(State)
    previous = START
    for name in names:
        builder.add_node(name, review if name == "review" else _node(name))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder.compile(checkpointer=checkpointer)


plain = klg.wrap(_linear("research", "write", "research2"))
hitl = klg.wrap(_linear("research", "review", "write"), wait_timeout=0.2)


@flow
def plain_flow(topic: str) -> list[str]:
    return plain.invoke({"topic": topic, "steps": []})["steps"]


@flow
def twice_flow(topic: str) -> list[str]:
    a = plain.invoke({"topic": topic, "steps": []})["steps"]
    b = plain.invoke({"topic": topic, "steps": ["again"]})["steps"]
    return a + b


@flow
def hitl_flow(topic: str) -> list[str]:
    return hitl.invoke({"topic": topic, "steps": []})["steps"]


@flow
def stream_flow(topic: str) -> list[Any]:
    return [sorted(u) for u in plain.stream({"topic": topic, "steps": []}, stream_mode="updates")]


async def _arun(topic: str) -> list[str]:
    chunks = [c async for c in plain.astream({"topic": topic, "steps": []}, stream_mode="values")]
    out = await plain.ainvoke({"topic": topic, "steps": ["again"]})
    return [str(len(chunks)), *out["steps"]]


@flow
def async_flow(topic: str) -> list[str]:
    return asyncio.run(_arun(topic))  # flow bodies are sync; an agent loop may run async


@pytest.fixture(autouse=True)
def _reset() -> None:
    RUNS.clear()


def test_adapter_path_is_lazy() -> None:
    import kitaru.adapters

    assert kitaru.adapters.langgraph.wrap is klg.wrap
    assert "kitaru_langgraph._saver" in sys.modules  # imported by this test module, not lazily
    assert klg.__name__ == "kitaru_langgraph"


def test_outside_a_flow_the_graph_is_plain() -> None:
    graph = klg.wrap(_linear("a", "b", checkpointer=InMemorySaver()))
    cfg = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"topic": "x", "steps": []}, cfg) == {"topic": "x", "steps": ["a", "b"]}
    assert [list(u) for u in graph.stream({"topic": "x", "steps": []}, cfg)] == [["a"], ["b"]]
    assert graph.get_state(cfg).values["steps"] == ["a", "b", "a", "b"]
    assert isinstance(graph.checkpointer, InMemorySaver)


def test_nodes_are_graph_node_checkpoints(memory_runtime: Runtime) -> None:
    handle = plain_flow.run("wal")
    assert handle.wait(timeout=30) == ["research", "write", "research2"]
    calls = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert [(c.invocation_id, c.name, c.checkpoint_type) for c in calls] == [
        ("research", "research", "graph_node"),
        ("write", "write", "graph_node"),
        ("research2", "research2", "graph_node"),
    ]
    # The graph's thread belongs to the execution and lives in the journal.
    saver = klg.KitaruCheckpointSaver(runtime=memory_runtime)
    state = saver.get_tuple({"configurable": {"thread_id": handle.exec_id}})
    assert state is not None
    assert state.checkpoint["channel_values"]["steps"] == ["research", "write", "research2"]


def test_node_calls_commit_without_waiting_for_the_disk(tmp_path: Path) -> None:
    """A ``graph_node`` call is re-recorded from its node document after a power loss, so its
    commit does not wait for the disk (the node's writes and document are synced)."""
    modes: list[tuple[str, bool]] = []

    class Recording(MemoryBackend):
        def save_call(self, exec_id: str, epoch: int, call: Any, **kwargs: Any) -> bool:
            modes.append((call.invocation_id, kwargs.get("sync", True)))
            return super().save_call(exec_id, epoch, call, **kwargs)

    runtime = Runtime(backend=Recording(), artifact_store=LocalArtifactStore(tmp_path / "a"))
    with use_runtime(runtime):
        assert plain_flow.run("x").wait(timeout=30) == ["research", "write", "research2"]
    assert modes == [("research", False), ("write", False), ("research2", False)]


def test_two_invocations_get_two_threads_and_numbered_nodes(memory_runtime: Runtime) -> None:
    handle = twice_flow.run("x")
    assert handle.wait(timeout=30) == ["research", "write", "research2"] * 1 + [
        "again",
        "research",
        "write",
        "research2",
    ]
    ids = [c.invocation_id for c in KitaruClient().executions.get(handle.exec_id).checkpoints]
    assert ids == ["research", "write", "research2", "research_2", "write_2", "research2_2"]


def test_interrupt_suspends_on_a_wait_and_input_resumes(
    memory_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    handle = hitl_flow.run("wal")
    client = KitaruClient()
    wait_for_status(handle.exec_id, "waiting")
    (pending,) = client.executions.pending_waits(handle.exec_id)
    assert (pending.name, pending.question) == ("review", "approve?")
    assert pending.metadata["interrupt"] == {"question": "approve?", "steps": ["research"]}
    assert pending.metadata["node"] == "review"
    client.executions.input(handle.exec_id, wait="review", value="yes")
    wait_for_status(handle.exec_id, "waiting")
    (pending,) = client.executions.pending_waits(handle.exec_id)
    assert (pending.name, pending.question) == ("review_2", "really?")
    client.executions.input(handle.exec_id, wait="review_2", value="sure")
    assert FlowHandle(handle.exec_id).wait(timeout=30) == ["research", "review=yes/sure", "write"]
    assert RUNS["research"] == 1 and RUNS["write"] == 1
    assert RUNS["review"] == 3  # LangGraph re-runs an interrupted node from its top
    calls = client.executions.get(handle.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == ["research", "review", "write"]


def test_stream_inside_a_flow(memory_runtime: Runtime) -> None:
    assert stream_flow.run("x").wait(timeout=30) == [["research"], ["write"], ["research2"]]


def test_ainvoke_inside_a_flow(memory_runtime: Runtime) -> None:
    handle = async_flow.run("x")
    assert handle.wait(timeout=30) == ["4", "again", "research", "write", "research2"]
    assert len(KitaruClient().executions.get(handle.exec_id).checkpoints) == 6


def _ask(name: str) -> Callable[[State], dict[str, Any]]:
    def node(state: State) -> dict[str, Any]:
        return {"steps": [f"{name}={interrupt(f'{name}?')}"]}

    return node


_par = StateGraph(State)
_par.add_node("legal", _ask("legal"))
_par.add_node("finance", _ask("finance"))
_par.add_edge(START, "legal")
_par.add_edge(START, "finance")
_par.add_edge("legal", END)
_par.add_edge("finance", END)
parallel = klg.wrap(_par.compile(), wait_timeout=0.2)


@flow
def parallel_flow() -> list[str]:
    return sorted(parallel.invoke({"topic": "t", "steps": []})["steps"])


def test_parallel_interrupts_are_two_waits_resumed_by_id(
    memory_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    handle = parallel_flow.run()
    client = KitaruClient()
    answers = {"legal": "ok", "finance": "approved"}
    for _ in range(2):  # the first unanswered wait suspends; each input continues the flow
        wait_for_status(handle.exec_id, "waiting")
        (pending,) = client.executions.pending_waits(handle.exec_id)
        assert pending.question == f"{pending.name}?"
        client.executions.input(handle.exec_id, wait=pending.name, value=answers[pending.name])
    assert FlowHandle(handle.exec_id).wait(timeout=30) == ["finance=approved", "legal=ok"]
    ids = sorted(c.invocation_id for c in client.executions.get(handle.exec_id).checkpoints)
    assert ids == ["finance", "legal"]


def _subgraph_graph() -> Any:
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
    return outer.compile()


nested = klg.wrap(_subgraph_graph())


@flow
def nested_flow() -> list[Any]:
    chunks = list(nested.stream({"topic": "t", "steps": []}, stream_mode="updates"))
    return [sorted(chunk) for chunk in chunks]


def test_subgraph_nodes_are_graph_node_calls(memory_runtime: Runtime) -> None:
    # The caller's stream shows the outer graph only (no subgraphs=True), as LangGraph does.
    assert nested_flow.run().wait(timeout=30) == [["plan"], ["research"], ["write"]]
    (execution,) = KitaruClient().executions.list()
    calls = KitaruClient().executions.get(execution.exec_id).checkpoints
    assert [(c.invocation_id, c.checkpoint_type) for c in calls] == [
        ("plan", "graph_node"),
        ("research:search", "graph_node"),
        ("research:summarize", "graph_node"),
        ("research", "graph_node"),
        ("write", "graph_node"),
    ]
    assert RUNS == {"plan": 1, "search": 1, "summarize": 1, "write": 1}


@flow
def same_thread_flow() -> list[Any]:
    cfg = {"configurable": {"thread_id": "chat"}}
    first = plain.invoke({"topic": "a", "steps": []}, cfg)["steps"]
    second = plain.invoke({"topic": "b", "steps": ["more"]}, cfg)["steps"]
    answer = kitaru.wait(name="go_on", timeout=0.2)  # the body runs again after the input
    return [first, second, answer]


def test_calls_on_one_thread_continue_it_and_survive_a_restart(
    memory_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    handle = same_thread_flow.run()
    client = KitaruClient()
    wait_for_status(handle.exec_id, "waiting")
    client.executions.input(handle.exec_id, wait="go_on", value="ok")
    nodes = ["research", "write", "research2"]
    # The second call continues the thread; on the rerun neither call runs a node again.
    assert FlowHandle(handle.exec_id).wait(timeout=30) == [nodes, nodes + ["more", *nodes], "ok"]
    assert RUNS == {"research": 2, "write": 2, "research2": 2}
    calls = client.executions.get(handle.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == [*nodes, *(f"{n}_2" for n in nodes)]


_unrecorded = _linear("research", "write", "research2")
adopting = klg.wrap(_unrecorded)


@flow
def unrecorded_flow() -> list[str]:
    # The graph runs on the execution's thread without the wrapper first, as if the process
    # had died after the nodes' writes were committed and before any call was recorded.
    thread = {"configurable": {"thread_id": kitaru.durable.current_exec_id()}}
    bare = _unrecorded.copy(update={"checkpointer": klg.KitaruCheckpointSaver()})
    bare.invoke({"topic": "t", "steps": []}, thread, durability="sync")
    return adopting.invoke({"topic": "t", "steps": []})["steps"]


def test_completed_nodes_missing_from_the_calls_are_recorded_from_history(
    memory_runtime: Runtime,
) -> None:
    handle = unrecorded_flow.run()
    assert handle.wait(timeout=30) == ["research", "write", "research2"]
    assert RUNS == {"research": 1, "write": 1, "research2": 1}  # nothing ran again
    calls = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert [(c.invocation_id, c.checkpoint_type) for c in calls] == [
        ("research", "graph_node"),
        ("write", "graph_node"),
        ("research2", "graph_node"),
    ]


@flow
def session_flow(topic: str) -> list[str]:
    return plain.invoke({"topic": topic, "steps": []}, {"configurable": {"thread_id": "s"}})[
        "steps"
    ]


def test_a_thread_named_by_the_caller_continues_across_executions(
    memory_runtime: Runtime,
) -> None:
    nodes = ["research", "write", "research2"]
    assert session_flow.run("a").wait(timeout=30) == nodes
    second = session_flow.run("b")
    assert second.wait(timeout=30) == nodes + nodes  # the next execution continues the thread
    assert RUNS == {"research": 2, "write": 2, "research2": 2}
    calls = KitaruClient().executions.get(second.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == nodes


def _interrupting_subgraph() -> Any:
    inner = StateGraph(State)
    inner.add_node("ask", _ask("ask"))
    inner.add_edge(START, "ask")
    inner.add_edge("ask", END)
    outer = StateGraph(State)
    outer.add_node("approval", inner.compile())
    outer.add_node("write", _node("write"))
    outer.add_edge(START, "approval")
    outer.add_edge("approval", "write")
    outer.add_edge("write", END)
    return outer.compile()


nested_hitl = klg.wrap(_interrupting_subgraph(), wait_timeout=0.2)


@flow
def nested_hitl_flow() -> list[str]:
    return nested_hitl.invoke({"topic": "t", "steps": []})["steps"]


def test_interrupt_in_a_subgraph_is_a_wait_named_after_its_outer_node(
    memory_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    handle = nested_hitl_flow.run()
    client = KitaruClient()
    wait_for_status(handle.exec_id, "waiting")
    (pending,) = client.executions.pending_waits(handle.exec_id)
    assert (pending.name, pending.question) == ("approval", "ask?")
    client.executions.input(handle.exec_id, wait="approval", value="yes")
    assert FlowHandle(handle.exec_id).wait(timeout=30)[-1] == "write"
    calls = client.executions.get(handle.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == ["approval:ask", "approval", "write"]
    assert RUNS == {"write": 1}


@flow
def batch_flow() -> list[list[str]]:
    outs = plain.batch([{"topic": "a", "steps": []}, {"topic": "b", "steps": ["b"]}])
    return [out["steps"] for out in outs]


def test_batch_in_a_flow_runs_each_input_durably(memory_runtime: Runtime) -> None:
    handle = batch_flow.run()
    nodes = ["research", "write", "research2"]
    assert handle.wait(timeout=30) == [nodes, ["b", *nodes]]
    ids = [c.invocation_id for c in KitaruClient().executions.get(handle.exec_id).checkpoints]
    assert ids == [*nodes, *(f"{n}_2" for n in nodes)]


async def _abatch() -> int:
    outs = await plain.abatch([{"topic": "a", "steps": []}] * 2)
    return len(outs)


@flow
def abatch_flow() -> int:
    return asyncio.run(_abatch())


def test_abatch_in_a_flow_runs_each_input_durably(memory_runtime: Runtime) -> None:
    handle = abatch_flow.run()
    assert handle.wait(timeout=30) == 2
    assert len(KitaruClient().executions.get(handle.exec_id).checkpoints) == 6


@flow
def unsupported_flow(method: str) -> str:
    try:
        getattr(plain, method)([{"topic": "a", "steps": []}])
    except kitaru.errors.KitaruUsageError as error:
        return str(error)
    return "ran"


@pytest.mark.parametrize("method", ["batch_as_completed", "stream_events", "transform"])
def test_entry_points_that_are_not_durable_are_refused_in_a_flow(
    memory_runtime: Runtime, method: str
) -> None:
    message = unsupported_flow.run(method).wait(timeout=30)
    assert message.startswith(f"graph.{method}() does not run durably inside a flow")
    assert "invoke, ainvoke, stream, astream, batch and abatch" in message
    assert RUNS == {}


def test_wrap_refuses_what_is_not_a_compiled_graph_and_bad_wait_timeouts() -> None:
    builder = StateGraph(State)
    builder.add_node("a", _node("a"))
    builder.add_edge(START, "a")
    with pytest.raises(kitaru.errors.KitaruUsageError, match=r"compile it first: klg\.wrap\("):
        klg.wrap(builder)  # type: ignore[arg-type]
    with pytest.raises(kitaru.errors.KitaruUsageError, match="needs a compiled LangGraph graph"):
        klg.wrap(lambda x: x)  # type: ignore[arg-type]
    for bad in (-1, "x", float("nan"), True):
        with pytest.raises(
            kitaru.errors.KitaruUsageError,
            match=r"klg\.wrap\(wait_timeout=\.\.\.\) must be a number of seconds >= 0",
        ):
            klg.wrap(builder.compile(), wait_timeout=bad)  # type: ignore[arg-type]
    assert klg.wrap(builder.compile(), wait_timeout=None).wait_timeout is None


@flow
def hitl_session_flow() -> list[str]:
    return hitl.invoke({"topic": "t", "steps": []}, {"configurable": {"thread_id": "busy"}})[
        "steps"
    ]


def test_a_thread_left_mid_run_by_an_unfinished_execution_is_refused(
    memory_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    """Two executions on one caller-named thread would interleave their nodes: while the
    first waits at an interrupt on it, the second fails at once, naming the first."""
    first = hitl_session_flow.run()
    client = KitaruClient()
    wait_for_status(first.exec_id, "waiting")
    second = hitl_session_flow.run()
    with pytest.raises(kitaru.errors.KitaruError):
        second.wait(timeout=30)
    failure = client.executions.get(second.exec_id).failure
    assert failure is not None and failure.exception_type == "kitaru.errors.KitaruStateError"
    assert f"Thread 'busy' is in use by execution '{first.exec_id}' (" in failure.message
    assert "two executions cannot continue one thread at once" in failure.message
    assert RUNS == {"research": 1, "review": 1}  # the second ran no node
    client.executions.input(first.exec_id, wait="review", value="yes")
    wait_for_status(first.exec_id, "waiting")
    client.executions.input(first.exec_id, wait="review_2", value="sure")
    assert FlowHandle(first.exec_id).wait(timeout=30)[-1] == "write"
    third = hitl_session_flow.run()  # the thread is free again: the next one continues it
    wait_for_status(third.exec_id, "waiting")
