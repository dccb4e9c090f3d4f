"""Replay: ``from_="<node>"`` forks the graph's history just before that node (earlier nodes
do not run again); ``overrides={"checkpoint.<node>": update}`` replaces that node's writes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kitaru import FlowHandle, KitaruClient
from kitaru.errors import KitaruUserCodeError
from kitaru.runtime import Runtime, use_runtime

sys.path.insert(0, str(Path(__file__).parent))
from lg_replay_flow import chat, nested_pipeline, pipeline, scored  # noqa: E402


@pytest.fixture
def sqlite_runtime(
    sqlite_urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    store, artifacts = sqlite_urls
    monkeypatch.setenv("KITARU_STORE_URL", store)
    monkeypatch.setenv("KITARU_ARTIFACT_STORE", artifacts)
    # The replay worker re-imports the flow module by name.
    here = str(Path(__file__).parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    )
    runtime = Runtime.from_urls(store, artifacts, lease_seconds=5)
    with use_runtime(runtime):
        yield runtime
    runtime.close()


def _runs(folder: Path) -> list[str]:
    return (folder / "runs").read_text().split()


@pytest.mark.slow
def test_replay_from_a_node_and_override_a_node(
    tmp_path: Path, sqlite_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    folder = tmp_path / "effects"
    folder.mkdir()
    source = pipeline.run(str(folder))
    assert source.wait(timeout=60) == ["plan:0", "search:1", "draft:2", "edit:3"]
    client = KitaruClient()

    replayed = client.executions.replay(source.exec_id, from_="draft")
    assert FlowHandle(replayed.exec_id).wait(timeout=90) == [
        "plan:0",
        "search:1",
        "draft:2",
        "edit:3",
    ]
    assert _runs(folder) == ["plan", "search", "draft", "edit", "draft", "edit"]
    calls = client.executions.get(replayed.exec_id).checkpoints
    assert [(c.invocation_id, c.checkpoint_type) for c in calls] == [
        (n, "graph_node") for n in ("plan", "search", "draft", "edit")
    ]

    overridden = client.executions.replay(
        source.exec_id, from_="search", overrides={"checkpoint.search": {"done": ["human"]}}
    )
    assert FlowHandle(overridden.exec_id).wait(timeout=90) == [
        "plan:0",
        "human",
        "draft:2",
        "edit:3",
    ]
    # search did not run; draft and edit ran on the overridden state
    assert _runs(folder)[6:] == ["draft", "edit"]

    # An override of a node after the replayed one: search runs again, draft does not run
    # (its writes are the override), edit runs on the overridden state.
    later = client.executions.replay(
        source.exec_id, from_="search", overrides={"checkpoint.draft": {"done": ["human draft"]}}
    )
    assert FlowHandle(later.exec_id).wait(timeout=90) == [
        "plan:0",
        "search:1",
        "human draft",
        "edit:3",
    ]
    assert _runs(folder)[8:] == ["search", "edit"]
    calls = client.executions.get(later.exec_id).checkpoints
    assert [(c.invocation_id, c.overridden) for c in calls] == [
        ("plan", False),
        ("search", False),
        ("draft", True),
        ("edit", False),
    ]


@pytest.mark.slow
def test_an_override_with_an_unknown_state_key_fails_the_replay_clearly(
    tmp_path: Path, sqlite_runtime: Runtime
) -> None:
    """LangGraph drops unknown keys of an update silently: a misspelled override would run the
    replay as if there were none; a value that is not a dict fails deep inside LangGraph.
    Both kinds of override (the replayed node's and a later node's) fail the replay before
    any node runs, with a KitaruUsageError naming the node, the state's keys and the value."""
    folder = tmp_path / "effects"
    folder.mkdir()
    source = pipeline.run(str(folder))
    source.wait(timeout=60)
    client = KitaruClient()
    for node in ("search", "draft"):
        replayed = client.executions.replay(
            source.exec_id, from_="search", overrides={f"checkpoint.{node}": {"dnoe": ["x"]}}
        )
        with pytest.raises(KitaruUserCodeError) as info:
            FlowHandle(replayed.exec_id).wait(timeout=90)
        message = str(info.value)
        assert "KitaruUsageError" in message
        assert f"The override for node '{node}' sets 'dnoe'" in message
        assert "(override given: {'dnoe': ['x']})" in message
        assert "State keys: done, folder" in message

        replayed = client.executions.replay(
            source.exec_id, from_="search", overrides={f"checkpoint.{node}": 5}
        )
        with pytest.raises(KitaruUserCodeError) as info:
            FlowHandle(replayed.exec_id).wait(timeout=90)
        message = str(info.value)
        assert "KitaruUsageError" in message and "InvalidUpdateError" not in message
        assert f"The override for node '{node}' must be a dict of state keys" in message
        assert "got 5. State keys: done, folder" in message
    assert _runs(folder) == ["plan", "search", "draft", "edit"]  # no replay ran a node


@pytest.mark.slow
def test_replay_from_a_subgraph_node_reruns_its_subgraph(
    tmp_path: Path, sqlite_runtime: Runtime
) -> None:
    folder = tmp_path / "effects"
    folder.mkdir()
    source = nested_pipeline.run(str(folder))
    result = source.wait(timeout=60)  # (the subgraph hands back its whole state: reducers
    assert result[-1] == "write:4"  # add it to the outer list again, as LangGraph does)
    client = KitaruClient()
    calls = client.executions.get(source.exec_id).checkpoints
    names = ["plan", "research:search", "research:summarize", "research", "write"]
    assert [c.invocation_id for c in calls] == names

    replayed = client.executions.replay(source.exec_id, from_="research:summarize")
    assert FlowHandle(replayed.exec_id).wait(timeout=90) == result
    # plan did not run again; the subgraph ran again as a whole (from its outer node)
    assert _runs(folder)[4:] == ["search", "summarize", "write"]
    calls = client.executions.get(replayed.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == names


@pytest.mark.slow
def test_replay_of_a_callers_thread_forks_it_and_leaves_the_live_thread_alone(
    tmp_path: Path, sqlite_runtime: Runtime
) -> None:
    """A chat thread named by the caller, continued by a second execution: a replay of the
    first forks the thread as the first execution left it (the second's turn is not in it),
    applies the override, and writes nothing into the caller's thread."""
    import kitaru_langgraph as klg

    folder = tmp_path / "effects"
    folder.mkdir()
    first = chat.run(str(folder), "one", "chat-1")
    assert first.wait(timeout=60) == "history=['one']"
    assert chat.run(str(folder), "two", "chat-1").wait(timeout=60) == (
        "history=['one', 'bot saw 1', 'two']"
    )
    saver = klg.KitaruCheckpointSaver(runtime=sqlite_runtime)
    live: Any = {"configurable": {"thread_id": "chat-1"}}
    before = saver.get_tuple(live)
    assert before is not None
    client = KitaruClient()

    edited = client.executions.replay(
        first.exec_id, from_="respond", overrides={"checkpoint.respond": {"reply": "EDITED"}}
    )
    assert FlowHandle(edited.exec_id).wait(timeout=90) == "EDITED"
    again = client.executions.replay(first.exec_id, from_="respond")
    assert FlowHandle(again.exec_id).wait(timeout=90) == "history=['one']"
    # A replay of the replay forks the replay's own (private) thread.
    twice = client.executions.replay(edited.exec_id, from_="respond")
    assert FlowHandle(twice.exec_id).wait(timeout=90) == "history=['one']"
    after = saver.get_tuple(live)
    assert after is not None and after.config == before.config  # the live thread is untouched
    fork = saver.get_tuple({"configurable": {"thread_id": f"{edited.exec_id}/chat-1"}})
    assert fork is not None
    assert fork.checkpoint["channel_values"]["msgs"] == ["one"]
    assert _runs(folder) == ["listen", "respond", "listen", "respond", "respond", "respond"]
    calls = client.executions.get(edited.exec_id).checkpoints
    assert [(c.invocation_id, c.overridden) for c in calls] == [
        ("listen", False),
        ("respond", True),
    ]
    # New flow inputs: the first turn again with another message (listen keeps its result).
    other = client.executions.replay(first.exec_id, from_="respond", msg="uno")
    assert FlowHandle(other.exec_id).wait(timeout=90) == "history=['uno']"
    assert _runs(folder)[6:] == ["respond"]
    # The conversation goes on from the live thread, without the replays' messages.
    assert chat.run(str(folder), "three", "chat-1").wait(timeout=60) == (
        "history=['one', 'bot saw 1', 'two', 'bot saw 3', 'three']"
    )


@pytest.mark.slow
def test_replay_with_new_flow_inputs_feeds_the_graph_the_new_input(
    tmp_path: Path, sqlite_runtime: Runtime
) -> None:
    """As with plain checkpoints, nodes before the replay point keep their recorded results
    (they do not run again) and the nodes from it on see the new input."""
    folder = tmp_path / "effects"
    folder.mkdir()
    source = scored.run(str(folder), 0)
    assert source.wait(timeout=60) == ["plan:0", "slow:1", "good:11"]
    client = KitaruClient()

    fresh = client.executions.replay(source.exec_id, from_="plan", score=-100)
    assert FlowHandle(fresh.exec_id).wait(timeout=90) == ["plan:-100", "slow:-99", "bad:-89"]
    assert _runs(folder)[3:] == ["plan", "slow", "bad"]

    later = client.executions.replay(source.exec_id, from_="slow", score=-100)
    # plan's recorded update (score 1) is applied in its place, slow runs on it
    assert FlowHandle(later.exec_id).wait(timeout=90) == ["plan:0", "slow:1", "good:11"]
    assert _runs(folder)[6:] == ["slow", "good"]
    calls = client.executions.get(later.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == ["plan", "slow", "good"]

    same = client.executions.replay(source.exec_id, from_="slow")  # same input: the fork
    assert FlowHandle(same.exec_id).wait(timeout=90) == ["plan:0", "slow:1", "good:11"]
    assert _runs(folder)[8:] == ["slow", "good"]


@pytest.mark.slow
def test_a_subgraph_node_override_is_refused_and_a_subgraph_replay_records_once(
    tmp_path: Path, sqlite_runtime: Runtime
) -> None:
    folder = tmp_path / "effects"
    folder.mkdir()
    source = nested_pipeline.run(str(folder))
    result = source.wait(timeout=60)
    client = KitaruClient()
    refused = client.executions.replay(
        source.exec_id, from_="write", overrides={"checkpoint.research:search": {"done": ["x"]}}
    )
    with pytest.raises(KitaruUserCodeError) as info:
        FlowHandle(refused.exec_id).wait(timeout=90)
    assert "Cannot override 'checkpoint.research:search': it is a node of a subgraph" in str(
        info.value
    )
    assert "overrides apply to the outer graph's nodes only" in str(info.value)
    assert not client.executions.get(refused.exec_id).checkpoints  # failed before any node

    replayed = client.executions.replay(source.exec_id, from_="research")
    assert FlowHandle(replayed.exec_id).wait(timeout=90) == result
    assert _runs(folder)[4:] == ["search", "summarize", "write"]
    calls = client.executions.get(replayed.exec_id).checkpoints
    names = ["plan", "research:search", "research:summarize", "research", "write"]
    assert [c.invocation_id for c in calls] == names  # each once
