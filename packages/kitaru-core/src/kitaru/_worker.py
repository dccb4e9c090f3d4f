"""``python -m kitaru._worker <exec_id>``: run one segment of an execution in this process.

Started detached by the local stack to continue executions (after input, resume or retry).
Opens the journal named by ``KITARU_STORE_URL`` and re-imports the flow from its recorded
source reference.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kitaru._worker <exec_id>", file=sys.stderr)
        return 2
    exec_id = argv[0]
    from kitaru import _liveness
    from kitaru._engine import run_segment
    from kitaru._runtime import current_runtime
    from kitaru._source import load_source

    runtime = current_runtime()
    record = runtime.backend.get_execution(exec_id)
    try:
        try:
            flow = load_source(record.source)
        except Exception as exc:
            _fail_unloadable(runtime, exec_id, exc)
            raise
        state = run_segment(runtime, exec_id, flow)
    finally:
        _liveness.drop_claim(exec_id)  # the segment ended (or never will): see spawn_worker
    print(
        f"kitaru worker: execution {exec_id} segment ended: "
        f"{state.value if state else 'taken by another runner'}",
        file=sys.stderr,
    )
    return 0


def _fail_unloadable(runtime: Any, exec_id: str, exc: BaseException) -> None:
    """The flow cannot be imported here: fail the execution with the reason (retry later)."""
    from kitaru import _liveness
    from kitaru._failures import failure_from
    from kitaru.backend import ExecutionState, LeaseConflictError
    from kitaru.errors import FailureOrigin

    owner = _liveness.new_owner()
    try:
        record = runtime.backend.acquire_lease(
            exec_id,
            owner=owner,
            host=_liveness.HOST,
            pid=os.getpid(),
            lease_seconds=runtime.lease_seconds,
        )
    except LeaseConflictError:
        return
    finally:
        _liveness.drop_owner(owner)
    failure = failure_from(exc, origin=FailureOrigin.RUNTIME)
    runtime.backend.finish(
        exec_id,
        record.epoch,
        state=ExecutionState.FAILED,
        failure=failure,
        status_reason=f"The worker could not load the flow: {exc}",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
