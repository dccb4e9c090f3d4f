"""Replay: ``from_="<node>"`` forks the graph's history just before that node (earlier nodes
do not run again); ``overrides={"checkpoint.<node>": update}`` replaces that node's writes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kitaru import FlowHandle, KitaruClient
from kitaru.errors import KitaruUserCodeError
from kitaru.runtime import Runtime, use_runtime

sys.path.insert(0, str(Path(__file__).parent))
from lg_replay_flow import nested_pipeline, pipeline  # noqa: E402


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
    replay as if there were none. Both kinds of override (the replayed node's and a later
    node's) fail the replay, naming the key and the state's keys."""
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
        assert f"The override for node '{node}' sets 'dnoe'" in message
        assert "State keys: done" in message


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
