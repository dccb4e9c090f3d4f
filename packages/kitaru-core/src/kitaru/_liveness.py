"""Detecting lost runners: at once on this host (the pid is gone, or this process no longer
runs the segment), elsewhere when the lease lapses."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from pathlib import Path

from kitaru._clock import utcnow
from kitaru._config import config_dir, lease_seconds
from kitaru.backend import (
    Backend,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    FencingError,
    LeaseConflictError,
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


def _claim_path(exec_id: str) -> Path:
    return config_dir() / "workers" / f"{exec_id}.claim"


def write_claim(exec_id: str, *, pid: int, epoch: int) -> None:
    """Record the worker just started for a ``pending`` execution (see :func:`reap`)."""
    with contextlib.suppress(OSError):  # only detecting a worker that dies at once is lost
        _claim_path(exec_id).write_text(f"{HOST} {pid} {epoch}\n")


def drop_claim(exec_id: str) -> None:
    """The worker's segment ended: its claim is not needed any more."""
    with contextlib.suppress(OSError):
        _claim_path(exec_id).unlink(missing_ok=True)


def _dead_worker(record: ExecutionRecord) -> int | None:
    """The pid of the worker started for this ``pending`` execution on this host, if that
    worker has exited without taking it (a claim for this very submission: same epoch)."""
    if record.state is not ExecutionState.PENDING or record.lease is not None:
        return None
    try:
        host, pid, epoch = _claim_path(record.exec_id).read_text().split()
        if host != HOST or int(epoch) != record.epoch or pid_alive(int(pid)):
            return None
        return int(pid)
    except (OSError, ValueError):
        return None


def _fail_unstarted(backend: Backend, record: ExecutionRecord, pid: int) -> ExecutionRecord:
    """Take the execution whose worker died before it started, and fail it (retry later)."""
    owner = new_owner()
    try:
        taken = backend.acquire_lease(
            record.exec_id, owner=owner, host=HOST, pid=os.getpid(), lease_seconds=lease_seconds()
        )
    except LeaseConflictError:  # a runner took it after all
        return backend.get_execution(record.exec_id)
    finally:
        drop_owner(owner)
    log = config_dir() / "workers" / f"{record.exec_id}.log"
    failure = FailureRecord(
        message=(
            f"Runner lost: its worker process (pid {pid} on {HOST}) exited before it started "
            f"the execution (see {log}). Completed checkpoints are kept; continue with "
            f"`kitaru executions retry {record.exec_id}`."
        ),
        exception_type=None,
        origin=FailureOrigin.RUNTIME,
    )
    with contextlib.suppress(FencingError):
        backend.finish(
            record.exec_id,
            taken.epoch,
            state=ExecutionState.FAILED,
            failure=failure,
            status_reason=failure.message,
        )
    drop_claim(record.exec_id)
    return backend.get_execution(record.exec_id)


def reap(backend: Backend, record: ExecutionRecord) -> ExecutionRecord:
    """Mark the execution failed (origin ``runtime``) if its runner is lost; return it fresh.

    A runner lost while a wait of the execution is pending (typically: listening for the
    input) ends its segment as ``waiting`` instead, as it would have when it stopped
    listening: the input continues the execution, no retry needed. A ``pending`` execution
    whose worker (started on this host) exited before taking it is failed the same way.
    """
    reason = runner_lost(record)
    if reason is None:
        pid = _dead_worker(record)
        return record if pid is None else _fail_unstarted(backend, record, pid)
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
