"""A six-checkpoint flow run as a script by the crash tests.

Each checkpoint appends one byte to ``<dir>/<name>`` (a side effect that counts its runs).
With ``KILL_AT=before:N`` the process SIGKILLs itself at the end of checkpoint N's body (its
side effect done, nothing committed); with ``KILL_AT=after:N`` right after checkpoint N's
commit (from the ``kitaru_checkpoint_recorded`` hook).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from kitaru import checkpoint, flow, hookimpl

STEPS = 6


def _kill_point() -> tuple[str, int]:
    raw = os.environ.get("KILL_AT", "")
    when, _, n = raw.partition(":")
    return when, int(n or 0)


@checkpoint
def step(folder: str, i: int) -> int:
    with (Path(folder) / f"step{i}").open("a") as f:
        f.write("x")
        f.flush()
        os.fsync(f.fileno())
    if _kill_point() == ("before", i) and os.environ.get("KITARU_WORKER") is None:
        os.kill(os.getpid(), signal.SIGKILL)
    return i


@flow
def six_steps(folder: str) -> int:
    return sum(step(folder, i) for i in range(1, STEPS + 1))


class _KillAfterCommit:
    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    @hookimpl
    def kitaru_checkpoint_recorded(self, call: object, artifact: object) -> None:
        self.seen += 1
        if self.seen == self.n:
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    from kitaru.plugins import get_plugin_manager

    when, n = _kill_point()
    if when == "after":
        get_plugin_manager().register(_KillAfterCommit(n), name="kill-after-commit")
    handle = six_steps.run(sys.argv[1])
    print(handle.exec_id, flush=True)
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=60))
