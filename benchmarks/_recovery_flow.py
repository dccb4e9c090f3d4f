"""The six-checkpoint flow that ``bench_recovery.py`` runs in a child process and kills.

Run as a script: ``python _recovery_flow.py <folder>``. Each checkpoint appends one line to
``<folder>/runs`` (so the benchmark can check nothing committed ran twice). When the
environment has ``BENCH_BLOCK_AT=N``, checkpoint N writes ``<folder>/ready`` and then sleeps,
so the parent can SIGKILL the process at a known point (checkpoints 1..N-1 committed). The
retry worker does not get ``BENCH_BLOCK_AT`` and runs straight through.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kitaru import checkpoint, flow

STEPS = 6


@checkpoint
def step(folder: str, i: int) -> int:
    with open(Path(folder) / "runs", "a") as f:
        f.write(f"{i}\n")
    if os.environ.get("BENCH_BLOCK_AT") == str(i):
        (Path(folder) / "ready").write_text("1")
        time.sleep(3600)
    return i


@flow
def six(folder: str) -> int:
    total = 0
    for i in range(1, STEPS + 1):
        total += step(folder, i)
    return total


if __name__ == "__main__":
    handle = six.run(sys.argv[1], cache=False)
    (Path(sys.argv[1]) / "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=3600))
