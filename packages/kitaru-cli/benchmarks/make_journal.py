"""Fill a SQLite journal with many executions, straight through the backend contract.

Usage: ``KITARU_CONFIG_PATH=/tmp/bench python make_journal.py [COUNT]`` (default 10,000), then
time ``kitaru executions list -o json`` against the same ``KITARU_CONFIG_PATH``.

Each execution gets one completed checkpoint call and its output artifact, so the summary
counts have something to count; 4 % are left ``waiting`` with a pending wait, 5 % ``failed``.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta

from kitaru._runtime import current_runtime
from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    CallRecord,
    CallState,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    SourceRef,
    WaitRecord,
)


def main(count: int) -> None:
    runtime = current_runtime()
    backend = runtime.backend
    start = datetime(2026, 1, 1, tzinfo=UTC)
    payload = runtime.encode(42)
    for i in range(count):
        now = start + timedelta(seconds=i)
        exec_id = str(uuid.uuid4())
        backend.create_execution(
            ExecutionRecord(
                exec_id=exec_id,
                flow_name=f"flow_{i % 7}",
                source=SourceRef(module="bench_flows", qualname=f"flow_{i % 7}"),
                stack="default",
                state=ExecutionState.PENDING,
                created_at=now,
            )
        )
        record = backend.acquire_lease(
            exec_id, owner="bench", host="bench-host", pid=1, lease_seconds=30
        )
        epoch = record.epoch
        artifact_id = str(uuid.uuid4())
        backend.save_call(
            exec_id,
            epoch,
            CallRecord(
                exec_id=exec_id,
                invocation_id="work",
                seq=0,
                name="work",
                call_id=str(uuid.uuid4()),
                state=CallState.COMPLETED,
                started_at=now,
                ended_at=now,
                output_artifact_id=artifact_id,
            ),
            attempts=[
                AttemptRecord(
                    exec_id=exec_id,
                    attempt_id=str(uuid.uuid4()),
                    invocation_id="work",
                    number=1,
                    state=CallState.COMPLETED,
                    started_at=now,
                    ended_at=now,
                )
            ],
            artifacts=[
                ArtifactRecord(
                    artifact_id=artifact_id,
                    exec_id=exec_id,
                    name="output",
                    payload=payload,
                    save_type="step_output",
                    invocation_id="work",
                    created_at=now,
                )
            ],
        )
        if i % 25 == 0:
            backend.create_wait(
                exec_id,
                epoch,
                WaitRecord(
                    exec_id=exec_id, wait_id=str(uuid.uuid4()), name="approve", created_at=now
                ),
            )
            backend.suspend(exec_id, epoch)
        elif i % 20 == 0:
            backend.finish(
                exec_id,
                epoch,
                state=ExecutionState.FAILED,
                failure=FailureRecord(message="boom", exception_type="ValueError"),
            )
        else:
            backend.finish(exec_id, epoch, state=ExecutionState.COMPLETED)
    runtime.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
