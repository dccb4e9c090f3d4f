"""A flow whose runner listens for input on a wait; the crash test kills it while it listens.

``<dir>/step`` counts runs of the checkpoint before the wait; the execution id is written to
``<dir>/exec_id``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kitaru import checkpoint, flow, wait


@checkpoint
def before(folder: str) -> str:
    with (Path(folder) / "step").open("a") as f:
        f.write("x")
    return "drafted"


@flow
def listening(folder: str) -> str:
    draft = before(folder)
    answer = wait(name="approve", schema=bool, question="Ship it?", timeout=600)
    return f"{draft}, approved={answer}"


if __name__ == "__main__":
    handle = listening.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=600))
