"""``SqlBackend.save_call`` throughput on SQLite: N checkpoint commits, FULL and NORMAL.

Each commit is what a ``@checkpoint`` sends: one completed call with one attempt and one
inline output artifact (a few bytes), for one running execution, on a fresh journal. Every
(mode, repetition) runs in its own child process after a 50-commit warm-up on a throwaway
journal; repetitions alternate between the modes. Prints commits per second (median and
best of the repetitions) and the median ms per commit.

Usage::

    bench_save_call.py [--calls 1000] [--reps 5] [--dir BASE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODES = ("FULL", "NORMAL")


def _records(exec_id: str, n: int) -> list[tuple[Any, Any, Any]]:
    from kitaru.backend import ArtifactRecord, AttemptRecord, CallRecord, CallState, Payload

    now = datetime.now(UTC)
    out = []
    for i in range(n):
        invocation_id = f"step_{i}"
        artifact = ArtifactRecord(
            artifact_id=str(uuid.uuid4()),
            exec_id=exec_id,
            name="output",
            payload=Payload(serializer="json", type_ref="builtins.int", inline=b"42", size=2),
            save_type="step_output",
            invocation_id=invocation_id,
            created_at=now,
        )
        call = CallRecord(
            exec_id=exec_id,
            invocation_id=invocation_id,
            seq=i,
            name="step",
            call_id=str(uuid.uuid4()),
            state=CallState.COMPLETED,
            started_at=now,
            ended_at=now,
            output_artifact_id=artifact.artifact_id,
            parent_invocation_ids=(f"step_{i - 1}",) if i else (),
        )
        attempt = AttemptRecord(
            exec_id=exec_id,
            attempt_id=str(uuid.uuid4()),
            invocation_id=invocation_id,
            number=1,
            state=CallState.COMPLETED,
            started_at=now,
            ended_at=now,
        )
        out.append((call, attempt, artifact))
    return out


def _commit_many(folder: Path, mode: str, n: int) -> float:
    """Seconds for ``n`` save_calls on a fresh journal in ``folder``."""
    from kitaru.backend import ExecutionRecord, SourceRef
    from kitaru_backend_sql import SqlBackend

    backend = SqlBackend(f"sqlite:///{folder / 'journal.db'}", sqlite_synchronous=mode)
    try:
        record = backend.create_execution(
            ExecutionRecord(
                exec_id=str(uuid.uuid4()),
                flow_name="bench",
                source=SourceRef(module="bench", qualname="flow"),
                created_at=datetime.now(UTC),
            )
        )
        record = backend.acquire_lease(
            record.exec_id, owner="bench", host="h", pid=1, lease_seconds=600
        )
        work = _records(record.exec_id, n)
        save = backend.save_call
        start = time.perf_counter()
        for call, attempt, artifact in work:
            save(record.exec_id, record.epoch, call, attempts=(attempt,), artifacts=(artifact,))
        return time.perf_counter() - start
    finally:
        backend.close()


def _child(mode: str, n: int, base: Path) -> None:
    warm = Path(tempfile.mkdtemp(dir=base))
    _commit_many(warm, mode, 50)
    real = Path(tempfile.mkdtemp(dir=base))
    print(json.dumps({"seconds": _commit_many(real, mode, n)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dir", default=None, help="base folder (a real disk, not tmpfs)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.calls, Path(args.dir))
        return
    import shutil

    base = Path(tempfile.mkdtemp(prefix="kitaru-bench-save-call-", dir=args.dir))
    per_mode: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for rep in range(args.reps):
            for mode in MODES:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        mode,
                        "--calls",
                        str(args.calls),
                        "--dir",
                        str(base),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                seconds = json.loads(out.strip().splitlines()[-1])["seconds"]
                per_mode[mode].append(seconds)
                print(
                    f"  rep {rep + 1}/{args.reps} {mode:6} {args.calls / seconds:8.0f} commits/s",
                    file=sys.stderr,
                )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    result = {}
    print(
        f"save_call, {args.calls} commits (call + attempt + inline artifact), "
        f"median / best of {args.reps}:"
    )
    for mode, runs in per_mode.items():
        median = statistics.median(runs)
        result[mode] = {
            "commits_per_second_median": round(args.calls / median),
            "commits_per_second_best": round(args.calls / min(runs)),
            "ms_per_commit_median": round(median / args.calls * 1000, 3),
            "seconds": runs,
        }
        print(
            f"  synchronous={mode:6} {args.calls / median:7.0f} /s  (best "
            f"{args.calls / min(runs):.0f} /s)  {median / args.calls * 1000:.3f} ms per commit"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
