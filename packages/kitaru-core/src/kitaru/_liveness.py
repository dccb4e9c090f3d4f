"""Detecting lost runners: at once on this host (the pid is gone, or this process no longer
runs the segment), elsewhere when the lease lapses."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from pathlib import Path

from kitaru._clock import utcnow
from kitaru.backend import (
    Backend,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    FencingError,
    WaitState,
)
from kitaru.errors import FailureOrigin

HOST = socket.gethostname()
_live_owners: set[str] = set()
_lock = threading.Lock()


def new_owner() -> str:
    owner = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    with _lock:
        _live_owners.add(owner)
    return owner


def drop_owner(owner: str) -> None:
    with _lock:
        _live_owners.discard(owner)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")  # a zombie has exited


def runner_lost(record: ExecutionRecord) -> str | None:
    """Why the runner of a ``running`` execution is gone, or None if it may be alive."""
    lease = record.lease
    if record.state is not ExecutionState.RUNNING or lease is None:
        return None
    if lease.host == HOST:
        if lease.pid == os.getpid():
            with _lock:
                if lease.owner not in _live_owners:
                    return f"its runner in this process (pid {lease.pid}) stopped"
        elif not pid_alive(lease.pid):
            return f"its runner process (pid {lease.pid} on {lease.host}) is gone"
    if lease.expires_at < utcnow():
        return (
            f"its runner (pid {lease.pid} on {lease.host}) stopped heartbeating; the lease "
            f"expired at {lease.expires_at.isoformat()}"
        )
    return None


def reap(backend: Backend, record: ExecutionRecord) -> ExecutionRecord:
    """Mark the execution failed (origin ``runtime``) if its runner is lost; return it fresh.

    A runner lost while a wait of the execution is pending (typically: listening for the
    input) ends its segment as ``waiting`` instead, as it would have when it stopped
    listening: the input continues the execution, no retry needed.
    """
    reason = runner_lost(record)
    if reason is None:
        return record
    if any(w.state is WaitState.PENDING for w in backend.get_waits(record.exec_id)):
        try:
            if backend.suspend(record.exec_id, record.epoch):
                return backend.get_execution(record.exec_id)
        except FencingError:  # someone else moved it on
            return backend.get_execution(record.exec_id)
    failure = FailureRecord(
        message=(
            f"Runner lost: {reason}. Completed checkpoints are kept; continue with "
            f"`kitaru executions retry {record.exec_id}`."
        ),
        exception_type=None,
        origin=FailureOrigin.RUNTIME,
    )
    backend.mark_lost(record.exec_id, record.epoch, failure=failure)
    return backend.get_execution(record.exec_id)
