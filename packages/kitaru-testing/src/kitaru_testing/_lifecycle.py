"""Conformance: leases and segment transitions (acquire, heartbeat, finish, suspend,
mark_lost, restart, request_cancel)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from kitaru.backend import (
    Backend,
    ExecutionNotFoundError,
    ExecutionState,
    LeaseConflictError,
    WaitState,
)
from kitaru.errors import FailureOrigin, KitaruStateError

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    LEASE_SECONDS,
    make_execution,
    make_failure,
    make_wait,
    populate,
    put_in_state,
    running,
    snapshot,
    wait_state,
)

__all__ = ["LifecycleTests"]

NOT_PENDING = [s for s in ExecutionState if s is not ExecutionState.PENDING]
NOT_RUNNING = [s for s in ExecutionState if s is not ExecutionState.RUNNING]
FINISHED = [s for s in ExecutionState if s.is_finished]
UNFINISHED_TARGETS = [s for s in ExecutionState if not s.is_finished]


def _assert_utc(value: object) -> None:
    assert isinstance(value, datetime)
    assert value.utcoffset() == timedelta(0)


class LifecycleTests(ConformanceBase):
    """acquire_lease, heartbeat, finish, suspend, mark_lost, restart, request_cancel."""

    # -- acquire_lease ---------------------------------------------------------------------

    def test_acquire_lease_takes_a_pending_execution(self, backend: Backend) -> None:
        created = backend.create_execution(make_execution())
        leased = backend.acquire_lease(
            created.exec_id, owner="runner-1", host="host-a", pid=4242, lease_seconds=30
        )
        assert leased.state is ExecutionState.RUNNING
        assert (leased.epoch, leased.round) == (1, 1)
        assert leased.lease is not None
        assert (leased.lease.owner, leased.lease.host, leased.lease.pid) == (
            "runner-1",
            "host-a",
            4242,
        )
        assert leased.lease.expires_at - leased.lease.heartbeat_at == timedelta(seconds=30)
        _assert_utc(leased.lease.heartbeat_at)
        _assert_utc(leased.started_at)
        assert leased.started_at <= leased.lease.heartbeat_at  # type: ignore[operator]
        assert backend.get_execution(created.exec_id) == leased
        unchanged = {"exec_id", "state", "epoch", "round", "lease", "started_at"}
        for name in created.__dataclass_fields__:
            if name not in unchanged:
                assert getattr(leased, name) == getattr(created, name), name

    def test_acquire_lease_again_increments_epoch_and_round_and_keeps_started_at(
        self, backend: Backend
    ) -> None:
        first = running(backend)
        backend.finish(first.exec_id, first.epoch, state=ExecutionState.FAILED)
        backend.restart(first.exec_id, from_states=[ExecutionState.FAILED])
        second = backend.acquire_lease(
            first.exec_id, owner="runner-2", host="host-b", pid=7, lease_seconds=5
        )
        assert (second.epoch, second.round) == (2, 2)
        assert second.started_at == first.started_at
        assert second.lease is not None and second.lease.owner == "runner-2"

    def test_acquire_lease_keeps_cancel_requested(self, backend: Backend) -> None:
        created = backend.create_execution(make_execution(cancel_requested=True))
        leased = backend.acquire_lease(
            created.exec_id, owner="r", host="h", pid=1, lease_seconds=LEASE_SECONDS
        )
        assert leased.cancel_requested is True
        assert backend.heartbeat(leased.exec_id, leased.epoch, lease_seconds=1) is True

    @pytest.mark.parametrize("state", NOT_PENDING, ids=lambda s: s.value)
    def test_acquire_lease_is_refused_unless_pending(
        self, backend: Backend, state: ExecutionState
    ) -> None:
        record = put_in_state(backend, state)
        before = snapshot(backend, record.exec_id)
        with pytest.raises(LeaseConflictError) as info:
            backend.acquire_lease(record.exec_id, owner="r2", host="h", pid=2, lease_seconds=9)
        assert info.value.exec_id == record.exec_id
        assert info.value.status == state
        assert snapshot(backend, record.exec_id) == before

    def test_acquire_lease_of_unknown_execution(self, backend: Backend) -> None:
        with pytest.raises(ExecutionNotFoundError):
            backend.acquire_lease("ex-missing", owner="r", host="h", pid=1, lease_seconds=1)

    # -- heartbeat -------------------------------------------------------------------------

    def test_heartbeat_extends_the_lease(self, backend: Backend) -> None:
        record = running(backend)
        assert record.lease is not None
        assert backend.heartbeat(record.exec_id, record.epoch, lease_seconds=600) is False
        after = backend.get_execution(record.exec_id)
        assert after.lease is not None
        assert after.lease.heartbeat_at >= record.lease.heartbeat_at
        assert after.lease.expires_at - after.lease.heartbeat_at == timedelta(seconds=600)
        assert after.lease.expires_at > record.lease.expires_at
        assert (after.lease.owner, after.lease.host, after.lease.pid) == (
            record.lease.owner,
            record.lease.host,
            record.lease.pid,
        )
        assert (after.epoch, after.state, after.round) == (record.epoch, record.state, 1)

    def test_heartbeat_reports_cancel_requested(self, backend: Backend) -> None:
        record = running(backend)
        backend.request_cancel(record.exec_id)
        assert backend.heartbeat(record.exec_id, record.epoch, lease_seconds=5) is True
        assert backend.get_execution(record.exec_id).state is ExecutionState.RUNNING

    # -- finish ----------------------------------------------------------------------------

    def test_finish_completed(self, backend: Backend) -> None:
        record = running(backend)
        done = backend.finish(
            record.exec_id,
            record.epoch,
            state=ExecutionState.COMPLETED,
            status_reason="all good",
            result_artifact_id="art-result",
        )
        assert done.state is ExecutionState.COMPLETED
        assert (done.status_reason, done.result_artifact_id) == ("all good", "art-result")
        assert done.lease is None and done.failure is None
        _assert_utc(done.ended_at)
        assert done.ended_at is not None and record.started_at is not None
        assert done.ended_at >= record.started_at
        assert (done.epoch, done.round, done.started_at) == (1, 1, record.started_at)
        assert backend.get_execution(record.exec_id) == done

    def test_finish_failed_stores_the_failure(self, backend: Backend) -> None:
        record = running(backend)
        failure = make_failure(origin=FailureOrigin.RUNTIME, traceback=None)
        done = backend.finish(
            record.exec_id, record.epoch, state=ExecutionState.FAILED, failure=failure
        )
        assert done.failure == failure
        assert backend.get_execution(record.exec_id).failure == failure

    def test_finish_clears_cancel_requested(self, backend: Backend) -> None:
        record = running(backend)
        backend.request_cancel(record.exec_id)
        done = backend.finish(record.exec_id, record.epoch, state=ExecutionState.CANCELLED)
        assert done.cancel_requested is False
        assert done.state is ExecutionState.CANCELLED

    def test_finish_cancelled_aborts_pending_waits(self, backend: Backend) -> None:
        record = running(backend)
        backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id, "a"))
        backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id, "b"))
        backend.resolve_wait(
            record.exec_id,
            backend.get_waits(record.exec_id)[0].wait_id,
            state=WaitState.RESOLVED,
            value=1,
        )
        backend.finish(record.exec_id, record.epoch, state=ExecutionState.CANCELLED)
        waits = {w.name: w for w in backend.get_waits(record.exec_id)}
        assert waits["a"].state is WaitState.RESOLVED and waits["a"].value == 1
        assert waits["b"].state is WaitState.ABORTED and waits["b"].value is None
        _assert_utc(waits["b"].resolved_at)

    @pytest.mark.parametrize("state", UNFINISHED_TARGETS, ids=lambda s: s.value)
    def test_finish_needs_a_finished_state(self, backend: Backend, state: ExecutionState) -> None:
        record = running(backend)
        before = snapshot(backend, record.exec_id)
        with pytest.raises(ValueError):
            backend.finish(record.exec_id, record.epoch, state=state)
        assert snapshot(backend, record.exec_id) == before

    # -- suspend ---------------------------------------------------------------------------

    def test_suspend_with_a_pending_wait(self, backend: Backend) -> None:
        record = running(backend)
        backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        assert backend.suspend(record.exec_id, record.epoch) is True
        after = backend.get_execution(record.exec_id)
        assert after.state is ExecutionState.WAITING
        assert after.lease is None
        assert (after.epoch, after.round, after.ended_at) == (record.epoch, record.round, None)

    def test_suspend_without_waits_changes_nothing(self, backend: Backend) -> None:
        record = running(backend)
        before = snapshot(backend, record.exec_id)
        assert backend.suspend(record.exec_id, record.epoch) is False
        assert snapshot(backend, record.exec_id) == before

    def test_suspend_after_the_wait_was_resolved_changes_nothing(self, backend: Backend) -> None:
        record = running(backend)
        wait = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        resolution = backend.resolve_wait(
            record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value={"ok": True}
        )
        assert resolution.should_continue is False  # still running: the runner carries on
        before = snapshot(backend, record.exec_id)
        assert backend.suspend(record.exec_id, record.epoch) is False
        assert snapshot(backend, record.exec_id) == before
        assert before.execution.state is ExecutionState.RUNNING

    # -- mark_lost -------------------------------------------------------------------------

    def test_mark_lost_fails_the_current_segment(self, backend: Backend) -> None:
        record = running(backend)
        failure = make_failure(message="runner lost", origin=FailureOrigin.RUNTIME)
        assert backend.mark_lost(record.exec_id, record.epoch, failure=failure) is True
        after = backend.get_execution(record.exec_id)
        assert after.state is ExecutionState.FAILED
        assert after.failure == failure
        assert after.status_reason == "runner lost"
        assert after.lease is None
        _assert_utc(after.ended_at)
        assert after.epoch == record.epoch

    def test_mark_lost_with_a_stale_epoch_changes_nothing(self, backend: Backend) -> None:
        record = running(backend)
        backend.mark_lost(record.exec_id, record.epoch, failure=make_failure())
        backend.restart(record.exec_id, from_states=[ExecutionState.FAILED])
        current = backend.acquire_lease(
            record.exec_id, owner="runner-2", host="h", pid=2, lease_seconds=LEASE_SECONDS
        )
        before = snapshot(backend, record.exec_id)
        for epoch in (record.epoch, current.epoch + 1):
            assert backend.mark_lost(record.exec_id, epoch, failure=make_failure()) is False
        assert snapshot(backend, record.exec_id) == before

    @pytest.mark.parametrize("state", NOT_RUNNING, ids=lambda s: s.value)
    def test_mark_lost_of_a_non_running_execution_changes_nothing(
        self, backend: Backend, state: ExecutionState
    ) -> None:
        record = put_in_state(backend, state)
        before = snapshot(backend, record.exec_id)
        assert backend.mark_lost(record.exec_id, record.epoch, failure=make_failure()) is False
        assert snapshot(backend, record.exec_id) == before

    def test_mark_lost_of_unknown_execution(self, backend: Backend) -> None:
        with pytest.raises(ExecutionNotFoundError):
            backend.mark_lost("ex-missing", 1, failure=make_failure())

    # -- restart ---------------------------------------------------------------------------

    def test_restart_a_failed_execution(self, backend: Backend) -> None:
        record = running(backend)
        backend.request_cancel(record.exec_id)
        backend.finish(
            record.exec_id,
            record.epoch,
            state=ExecutionState.FAILED,
            status_reason="boom",
            failure=make_failure(),
        )
        restarted = backend.restart(
            record.exec_id, from_states=[ExecutionState.FAILED, ExecutionState.CANCELLED]
        )
        assert restarted.state is ExecutionState.PENDING
        assert (restarted.failure, restarted.status_reason, restarted.ended_at) == (
            None,
            None,
            None,
        )
        assert restarted.cancel_requested is False
        assert restarted.lease is None
        assert (restarted.epoch, restarted.round) == (record.epoch, record.round)
        assert restarted.started_at == record.started_at
        assert backend.get_execution(record.exec_id) == restarted

    def test_restart_clears_cancel_requested(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution(cancel_requested=True))
        restarted = backend.restart(record.exec_id, from_states=[ExecutionState.PENDING])
        assert restarted.cancel_requested is False

    def test_restart_a_waiting_execution_keeps_its_waits(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        waits = backend.get_waits(record.exec_id)
        restarted = backend.restart(record.exec_id, from_states=[ExecutionState.WAITING])
        assert restarted.state is ExecutionState.PENDING
        assert backend.get_waits(record.exec_id) == waits

    @pytest.mark.parametrize("state", list(ExecutionState), ids=lambda s: s.value)
    def test_restart_from_a_state_not_allowed_changes_nothing(
        self, backend: Backend, state: ExecutionState
    ) -> None:
        record = put_in_state(backend, state)
        before = snapshot(backend, record.exec_id)
        allowed = [s for s in (ExecutionState.FAILED, ExecutionState.CANCELLED) if s is not state]
        with pytest.raises(KitaruStateError) as info:
            backend.restart(record.exec_id, from_states=allowed)
        assert state.value in str(info.value)
        assert info.value.status == state
        assert snapshot(backend, record.exec_id) == before

    def test_restart_with_no_allowed_states_is_refused(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.FAILED)
        with pytest.raises(KitaruStateError):
            backend.restart(record.exec_id, from_states=[])

    def test_restart_of_unknown_execution(self, backend: Backend) -> None:
        with pytest.raises(ExecutionNotFoundError):
            backend.restart("ex-missing", from_states=list(ExecutionState))

    # -- request_cancel --------------------------------------------------------------------

    def test_request_cancel_of_a_pending_execution(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        cancelled = backend.request_cancel(record.exec_id)
        assert cancelled.state is ExecutionState.CANCELLED
        assert cancelled.lease is None
        _assert_utc(cancelled.ended_at)
        assert backend.get_execution(record.exec_id) == cancelled

    def test_request_cancel_of_a_pending_execution_aborts_its_waits(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        backend.restart(record.exec_id, from_states=[ExecutionState.WAITING])
        backend.request_cancel(record.exec_id)
        assert wait_state(backend, record.exec_id, "approve") is WaitState.ABORTED

    def test_request_cancel_of_a_waiting_execution(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        cancelled = backend.request_cancel(record.exec_id)
        assert cancelled.state is ExecutionState.CANCELLED
        _assert_utc(cancelled.ended_at)
        [wait] = backend.get_waits(record.exec_id)
        assert wait.state is WaitState.ABORTED
        _assert_utc(wait.resolved_at)

    def test_request_cancel_of_a_running_execution(self, backend: Backend) -> None:
        record = running(backend)
        populate(backend, record)
        waits = backend.get_waits(record.exec_id)
        flagged = backend.request_cancel(record.exec_id)
        assert flagged.state is ExecutionState.RUNNING
        assert flagged.cancel_requested is True
        assert (flagged.epoch, flagged.lease) == (record.epoch, record.lease)
        assert backend.get_execution(record.exec_id) == flagged
        assert backend.get_waits(record.exec_id) == waits  # the runner aborts them itself
        again = backend.request_cancel(record.exec_id)
        assert again == flagged

    @pytest.mark.parametrize("state", FINISHED, ids=lambda s: s.value)
    def test_request_cancel_of_a_finished_execution_is_refused(
        self, backend: Backend, state: ExecutionState
    ) -> None:
        record = put_in_state(backend, state)
        before = snapshot(backend, record.exec_id)
        with pytest.raises(KitaruStateError) as info:
            backend.request_cancel(record.exec_id)
        assert info.value.status == state
        assert snapshot(backend, record.exec_id) == before

    def test_request_cancel_of_unknown_execution(self, backend: Backend) -> None:
        with pytest.raises(ExecutionNotFoundError):
            backend.request_cancel("ex-missing")
