"""A flow run as a script by the live-progress tests (``test_live.py``).

The flow body prints a line, then calls ``slow``, which prints and logs a line each and then
blocks until the file ``<dir>/go`` exists (at most 120 s): the test reads the journal while
it blocks, then SIGKILLs the process, creates ``go`` and retries the execution.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from kitaru import checkpoint, flow


@checkpoint
def slow(folder: str) -> str:
    print("slow step started", flush=True)
    logging.getLogger("live_flow").warning("still working")
    deadline = time.monotonic() + 120
    while not Path(folder, "go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("slow step done", flush=True)
    return "done"


@flow
def live(folder: str) -> str:
    print("flow body started", flush=True)
    return slow(folder)


if __name__ == "__main__":
    handle = live.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=180))
