"""``python -m kitaru._worker <exec_id>``: run one segment of an execution in this process.

Started detached by the local stack to continue executions (after input, resume or retry).
Opens the journal named by ``KITARU_STORE_URL`` and re-imports the flow from its recorded
source reference.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kitaru._worker <exec_id>", file=sys.stderr)
        return 2
    exec_id = argv[0]
    from kitaru._engine import run_segment
    from kitaru._runtime import current_runtime
    from kitaru._source import load_source

    runtime = current_runtime()
    record = runtime.backend.get_execution(exec_id)
    flow = load_source(record.source)
    state = run_segment(runtime, exec_id, flow)
    print(f"kitaru worker: execution {exec_id} segment ended: "
          f"{state.value if state else 'taken by another runner'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
