"""Small helpers for the CliRunner tests (not a test module)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from kitaru import KitaruClient
from kitaru.backend import ExecutionRecord, ExecutionState, SourceRef, WaitRecord
from kitaru.runtime import Runtime


def settle(exec_id: str, *statuses: str, timeout: float = 10.0) -> str:
    """Poll until the execution's public status is one of ``statuses``."""
    client = KitaruClient()
    deadline = time.monotonic() + timeout
    while True:
        status = client.executions.get(exec_id).status.value
        if status in statuses:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"{exec_id} stayed {status}, wanted {statuses}")
        time.sleep(0.01)


def waiting_with_waits(
    runtime: Runtime,
    names: list[str],
    exec_id: str | None = None,
    *,
    details: dict[str, dict[str, Any]] | None = None,
) -> str:
    """An execution suspended with the given pending waits, made through the backend
    (``details``: more ``WaitRecord`` fields per wait name: question, schema, metadata)."""
    backend = runtime.backend
    exec_id = exec_id or str(uuid.uuid4())
    backend.create_execution(
        ExecutionRecord(
            exec_id=exec_id,
            flow_name="manual",
            source=SourceRef(module="cli_flows", qualname="approve_flow"),
            stack="default",
            state=ExecutionState.PENDING,
            created_at=datetime.now(UTC),
        )
    )
    record = backend.acquire_lease(exec_id, owner="test", host="elsewhere", pid=1, lease_seconds=30)
    for name in names:
        backend.create_wait(
            exec_id,
            record.epoch,
            WaitRecord(
                exec_id=exec_id,
                wait_id=str(uuid.uuid4()),
                name=name,
                created_at=datetime.now(UTC),
                **(details or {}).get(name, {}),
            ),
        )
    backend.suspend(exec_id, record.epoch)
    return exec_id
