"""A five-node graph killed in its third node, run as a script by the crash test.

Every node appends its name to ``<folder>/runs`` (a side effect that counts real runs across
processes). Node ``n3`` SIGKILLs the process after its side effect, unless it runs in the retry
worker (``KITARU_WORKER`` set).
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
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

FOLDER: list[Path] = []


class State(TypedDict):
    done: Annotated[list[str], operator.add]


def _node(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        with (FOLDER[0] / "runs").open("a") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        if name == "n3" and os.environ.get("KITARU_WORKER") is None:
            os.kill(os.getpid(), signal.SIGKILL)
        return {"done": [name]}

    return node


builder = StateGraph(State)
previous = START
for name in ("n1", "n2", "n3", "n4", "n5"):
    builder.add_node(name, _node(name))
    builder.add_edge(previous, name)
    previous = name
builder.add_edge(previous, END)
graph = klg.wrap(builder.compile())


@flow
def five_nodes(folder: str) -> list[str]:
    FOLDER[:] = [Path(folder)]
    return graph.invoke({"done": []})["done"]


if __name__ == "__main__":
    handle = five_nodes.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=60))
