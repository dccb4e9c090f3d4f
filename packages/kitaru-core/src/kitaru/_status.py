"""The one public status enum and the mapping from stored state."""

from __future__ import annotations

import enum

from kitaru.backend import ExecutionState


class ExecutionStatus(enum.StrEnum):
    """Public status of an execution."""

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (
            ExecutionStatus.COMPLETED,
            ExecutionStatus.FAILED,
            ExecutionStatus.CANCELLED,
        )


ExecutionStatus.__module__ = "kitaru.client"


def public_status(state: ExecutionState, *, has_pending_wait: bool) -> ExecutionStatus:
    if state in (ExecutionState.PENDING, ExecutionState.RUNNING):
        return ExecutionStatus.WAITING if has_pending_wait else ExecutionStatus.RUNNING
    return _SAME.get(state) or ExecutionStatus(state.value)


#: Stored states whose public status has the same value (looked up: ``executions list`` maps
#: 10,000 of them, and calling the enum costs more than the rest of the mapping).
_SAME = {
    state: ExecutionStatus(state.value)
    for state in ExecutionState
    if state not in (ExecutionState.PENDING, ExecutionState.RUNNING)
}


def parse_status(value: object) -> ExecutionStatus:
    from kitaru.errors import KitaruUsageError

    if isinstance(value, ExecutionStatus):
        return value
    if isinstance(value, str):
        try:
            return ExecutionStatus(value.strip().lower())
        except ValueError:
            pass
    valid = ", ".join(s.value for s in ExecutionStatus)
    raise KitaruUsageError(f"Unknown status {value!r}. Valid statuses: {valid}.")
