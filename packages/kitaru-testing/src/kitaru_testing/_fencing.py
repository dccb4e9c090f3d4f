"""Conformance: fencing. A write with a stale epoch raises FencingError and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kitaru.backend import (
    Backend,
    CallState,
    ExecutionNotFoundError,
    ExecutionRecord,
    ExecutionState,
    FencingError,
)
from kitaru.errors import KitaruStateError

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    LEASE_SECONDS,
    Snapshot,
    make_artifact,
    make_attempt,
    make_call,
    make_failure,
    make_wait,
    populate,
    running,
    snapshot,
)

__all__ = ["FENCED_OPERATIONS", "FencingTests"]

#: One write per fenced method of the contract: ``operation(backend, exec_id, epoch)``.
FENCED_OPERATIONS: dict[str, Callable[[Backend, str, int], object]] = {
    "heartbeat": lambda b, e, epoch: b.heartbeat(e, epoch, lease_seconds=999),
    "finish": lambda b, e, epoch: b.finish(
        e, epoch, state=ExecutionState.COMPLETED, result_artifact_id="art-zombie"
    ),
    "suspend": lambda b, e, epoch: b.suspend(e, epoch),
    "save_call": lambda b, e, epoch: b.save_call(
        e,
        epoch,
        make_call(e, "zombie"),
        attempts=[make_attempt(e, "zombie")],
        artifacts=[make_artifact(e, name="zombie")],
    ),
    "save_call_overwrite": lambda b, e, epoch: b.save_call(
        e, epoch, make_call(e, "work", state=CallState.COMPLETED, seq=7)
    ),
    "save_attempt": lambda b, e, epoch: b.save_attempt(e, epoch, make_attempt(e, None, number=99)),
    "create_wait": lambda b, e, epoch: b.create_wait(e, epoch, make_wait(e, "zombie")),
    "put_artifact": lambda b, e, epoch: b.put_artifact(e, epoch, make_artifact(e, name="zombie")),
    "merge_metadata": lambda b, e, epoch: b.merge_metadata(e, epoch, {"progress": "zombie"}),
}


def _replaced_runner(backend: Backend) -> tuple[ExecutionRecord, ExecutionRecord]:
    """A runner (epoch 1) declared lost and replaced by a second runner (epoch 2), which has
    journaled real work: returns ``(zombie, current)``."""
    zombie = running(backend)
    populate(backend, zombie)
    backend.mark_lost(zombie.exec_id, zombie.epoch, failure=make_failure(message="runner lost"))
    backend.restart(zombie.exec_id, from_states=[ExecutionState.FAILED])
    current = backend.acquire_lease(
        zombie.exec_id, owner="runner-2", host="host-b", pid=2, lease_seconds=LEASE_SECONDS
    )
    backend.save_call(
        current.exec_id,
        current.epoch,
        make_call(current.exec_id, "work", state=CallState.RUNNING, ended_at=None, seq=1),
    )
    return zombie, current


def _assert_fenced(backend: Backend, exec_id: str, epoch: int, operation: str) -> Snapshot:
    before = snapshot(backend, exec_id)
    with pytest.raises(FencingError) as info:
        FENCED_OPERATIONS[operation](backend, exec_id, epoch)
    assert isinstance(info.value, KitaruStateError)
    assert info.value.exec_id == exec_id
    after = snapshot(backend, exec_id)
    assert after == before, f"{operation} with a stale epoch changed the journal"
    return after


class FencingTests(ConformanceBase):
    """Every fenced method refuses stale epochs and executions that are not running."""

    @pytest.mark.parametrize("operation", sorted(FENCED_OPERATIONS))
    def test_stale_epoch_is_fenced(self, backend: Backend, operation: str) -> None:
        zombie, current = _replaced_runner(backend)
        _assert_fenced(backend, zombie.exec_id, zombie.epoch, operation)
        # The current runner is unaffected and can still write.
        assert backend.heartbeat(current.exec_id, current.epoch, lease_seconds=5) is False

    @pytest.mark.parametrize("operation", sorted(FENCED_OPERATIONS))
    def test_future_epoch_is_fenced(self, backend: Backend, operation: str) -> None:
        record = running(backend)
        populate(backend, record)
        _assert_fenced(backend, record.exec_id, record.epoch + 1, operation)

    @pytest.mark.parametrize("operation", sorted(FENCED_OPERATIONS))
    @pytest.mark.parametrize(
        "state",
        [ExecutionState.WAITING, ExecutionState.COMPLETED, ExecutionState.CANCELLED],
        ids=lambda s: s.value,
    )
    def test_current_epoch_of_a_segment_that_ended_is_fenced(
        self, backend: Backend, operation: str, state: ExecutionState
    ) -> None:
        record = running(backend)
        populate(backend, record)  # leaves a pending wait, so suspend() can succeed
        if state is ExecutionState.WAITING:
            assert backend.suspend(record.exec_id, record.epoch)
        else:
            backend.finish(record.exec_id, record.epoch, state=state)
        _assert_fenced(backend, record.exec_id, record.epoch, operation)

    def test_fenced_write_to_a_pending_execution(self, backend: Backend) -> None:
        record = running(backend)
        populate(backend, record)
        backend.finish(record.exec_id, record.epoch, state=ExecutionState.FAILED)
        backend.restart(record.exec_id, from_states=[ExecutionState.FAILED])
        for operation in sorted(FENCED_OPERATIONS):
            _assert_fenced(backend, record.exec_id, record.epoch, operation)

    @pytest.mark.parametrize("operation", sorted(FENCED_OPERATIONS))
    def test_fenced_write_to_unknown_execution(self, backend: Backend, operation: str) -> None:
        with pytest.raises(ExecutionNotFoundError):
            FENCED_OPERATIONS[operation](backend, "ex-missing", 1)

    def test_zombie_cannot_overwrite_the_replacement_runners_call(self, backend: Backend) -> None:
        zombie, current = _replaced_runner(backend)
        exec_id = current.exec_id
        done = make_call(exec_id, "work", seq=1, output_artifact_id="art-real")
        backend.save_call(exec_id, current.epoch, done)
        with pytest.raises(FencingError):
            backend.save_call(
                exec_id, zombie.epoch, make_call(exec_id, "work", seq=1, output_artifact_id="x")
            )
        with pytest.raises(FencingError):
            backend.finish(exec_id, zombie.epoch, state=ExecutionState.FAILED)
        calls = {c.invocation_id: c for c in backend.get_calls(exec_id)}
        assert calls["work"] == done
        after = backend.get_execution(exec_id)
        assert (after.state, after.epoch, after.lease) == (
            ExecutionState.RUNNING,
            current.epoch,
            current.lease,
        )
