"""A flow whose continuation worker dies (SIGKILL) while importing this script, before it
takes the execution, while ``<dir>/die`` exists (the crash test's switch)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from kitaru import flow, wait

FOLDER = Path(os.environ.get("UNSTARTED_DIR", "."))
if os.environ.get("KITARU_WORKER") and (FOLDER / "die").exists():
    os.kill(os.getpid(), signal.SIGKILL)


@flow
def asks() -> str:
    answer = wait(name="go", schema=str, question="Go?", timeout=0)
    return f"went: {answer}"


if __name__ == "__main__":
    handle = asks.run()
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.status.value)
