"""A three-node graph whose process is SIGKILLed right after its last node finished: the
node's writes (and its node document, committed with them) are durable, its ``graph_node``
call is not recorded.

The kill comes from a fault-injecting backend (``kitaru.testing.FaultyBackend`` with a
predicate): it kills the process when the call of ``n3`` is about to be committed. Every node
appends its name to ``<folder>/runs``.
"""

from __future__ import annotations

import operator
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import kitaru_langgraph as klg
from kitaru import flow
from kitaru.artifacts import LocalArtifactStore
from kitaru.backend import CallRecord
from kitaru.runtime import Runtime, use_runtime
from kitaru.testing import FaultyBackend
from kitaru_backend_sql import SqlBackend
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class KillAtNodeCall(FaultyBackend):
    """SIGKILLs the process when the call of ``node`` is committed."""

    def __init__(self, inner: Any, node: str) -> None:
        super().__init__(inner)
        self.node = node

    def save_call(self, exec_id: str, epoch: int, call: CallRecord, **kwargs: Any) -> bool:
        if call.invocation_id == self.node:
            os.kill(os.getpid(), signal.SIGKILL)
        return bool(self._call("save_call", exec_id, epoch, call, **kwargs))


class State(TypedDict):
    folder: str
    done: Annotated[list[str], operator.add]


def _node(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        with Path(state["folder"], "runs").open("a") as f:
            f.write(name + "\n")
        return {"done": [name]}

    return node


builder = StateGraph(State)
previous = START
for name in ("n1", "n2", "n3"):
    builder.add_node(name, _node(name))
    builder.add_edge(previous, name)
    previous = name
builder.add_edge(previous, END)
graph = klg.wrap(builder.compile())


@flow
def three_nodes(folder: str) -> list[str]:
    return graph.invoke({"folder": folder, "done": []})["done"]


if __name__ == "__main__":
    store, artifacts, folder = sys.argv[1:4]
    runtime = Runtime(
        backend=KillAtNodeCall(SqlBackend(store), "n3"),
        artifact_store=LocalArtifactStore(artifacts),
        store_url=store,
        artifact_uri=artifacts,
    )
    with use_runtime(runtime):
        handle = three_nodes.run(folder)
        Path(folder, "exec_id").write_text(handle.exec_id)
        print(handle.wait(timeout=60))
