"""Conformance: waits — idempotent creation and compare-and-set resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from kitaru.backend import (
    Backend,
    ExecutionNotFoundError,
    ExecutionState,
    FencingError,
    NotFoundError,
    WaitNotPendingError,
    WaitResolution,
    WaitState,
)
from kitaru.errors import KitaruStateError

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    LEASE_SECONDS,
    at,
    make_wait,
    put_in_state,
    running,
    snapshot,
    wait_state,
)

__all__ = ["WaitTests"]

VALUES = [
    {"ok": True, "note": "ünï", "n": [1, 2.5, None]},
    "yes",
    42,
    None,
    [],
]


class WaitTests(ConformanceBase):
    """create_wait, get_waits, resolve_wait."""

    def test_create_wait_stores_the_record(self, backend: Backend) -> None:
        record = running(backend)
        wait = make_wait(record.exec_id)
        assert backend.create_wait(record.exec_id, record.epoch, wait) == wait
        assert backend.get_waits(record.exec_id) == [wait]

    def test_create_wait_without_schema_or_question(self, backend: Backend) -> None:
        record = running(backend)
        wait = make_wait(record.exec_id, schema=None, question=None, metadata={})
        backend.create_wait(record.exec_id, record.epoch, wait)
        assert backend.get_waits(record.exec_id) == [wait]

    def test_create_wait_is_idempotent_by_name(self, backend: Backend) -> None:
        record = running(backend)
        first = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        again = make_wait(record.exec_id, question="different", created_at=at(99))
        assert backend.create_wait(record.exec_id, record.epoch, again) == first
        assert backend.get_waits(record.exec_id) == [first]

    def test_create_wait_after_a_restart_returns_the_resolved_wait(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        [wait] = backend.get_waits(record.exec_id)
        backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value="go")
        second = backend.acquire_lease(
            record.exec_id, owner="r2", host="h", pid=2, lease_seconds=LEASE_SECONDS
        )
        got = backend.create_wait(record.exec_id, second.epoch, make_wait(record.exec_id))
        assert got.wait_id == wait.wait_id
        assert (got.state, got.value) == (WaitState.RESOLVED, "go")
        assert backend.get_waits(record.exec_id) == [got]

    def test_create_wait_refuses_a_wait_id_used_by_another_name(self, backend: Backend) -> None:
        record = running(backend)
        first = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        before = snapshot(backend, record.exec_id)
        clash = make_wait(record.exec_id, "other", wait_id=first.wait_id)
        with pytest.raises(KitaruStateError) as info:
            backend.create_wait(record.exec_id, record.epoch, clash)
        assert not isinstance(info.value, FencingError)
        assert info.value.exec_id == record.exec_id
        assert snapshot(backend, record.exec_id) == before
        # Nothing is broken: the stored name still comes back, and a fresh id is taken.
        again = make_wait(record.exec_id, first.name, question="asked again")
        assert backend.create_wait(record.exec_id, record.epoch, again) == first
        other = make_wait(record.exec_id, "other")
        assert backend.create_wait(record.exec_id, record.epoch, other) == other

    def test_wait_names_are_per_execution(self, backend: Backend) -> None:
        one = running(backend)
        two = running(backend)
        backend.create_wait(one.exec_id, one.epoch, make_wait(one.exec_id, "same"))
        wait = make_wait(two.exec_id, "same")
        assert backend.create_wait(two.exec_id, two.epoch, wait) == wait

    def test_get_waits_oldest_first(self, backend: Backend) -> None:
        record = running(backend)
        waits = [make_wait(record.exec_id, f"w{n}", created_at=at(n)) for n in (3, 1, 2)]
        for wait in waits:
            backend.create_wait(record.exec_id, record.epoch, wait)
        assert backend.get_waits(record.exec_id) == sorted(waits, key=lambda w: w.created_at)

    @pytest.mark.parametrize("value", VALUES, ids=repr)
    def test_resolve_wait_continues_a_waiting_execution(
        self, backend: Backend, value: object
    ) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        [wait] = backend.get_waits(record.exec_id)
        resolution = backend.resolve_wait(
            record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value=value
        )
        assert isinstance(resolution, WaitResolution)
        assert resolution.should_continue is True
        assert resolution.execution.state is ExecutionState.PENDING
        assert resolution.execution == backend.get_execution(record.exec_id)
        assert resolution.wait.state is WaitState.RESOLVED
        assert resolution.wait.value == value
        assert resolution.wait.resolved_at is not None
        assert resolution.wait.resolved_at.utcoffset() == timedelta(0)
        assert resolution.wait == replace(
            wait, state=WaitState.RESOLVED, value=value, resolved_at=resolution.wait.resolved_at
        )
        assert backend.get_waits(record.exec_id) == [resolution.wait]

    def test_resolve_wait_keeps_waiting_while_another_wait_is_pending(
        self, backend: Backend
    ) -> None:
        record = running(backend)
        a = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id, "a"))
        b = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id, "b"))
        assert backend.suspend(record.exec_id, record.epoch)
        first = backend.resolve_wait(record.exec_id, a.wait_id, state=WaitState.RESOLVED)
        assert first.should_continue is False
        assert first.execution.state is ExecutionState.WAITING
        second = backend.resolve_wait(record.exec_id, b.wait_id, state=WaitState.RESOLVED)
        assert second.should_continue is True
        assert second.execution.state is ExecutionState.PENDING

    def test_resolve_wait_of_a_running_execution(self, backend: Backend) -> None:
        record = running(backend)
        wait = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        resolution = backend.resolve_wait(
            record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value=1
        )
        assert resolution.should_continue is False
        assert resolution.execution == record
        assert backend.get_execution(record.exec_id) == record

    def test_resolve_wait_is_compare_and_set(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        [wait] = backend.get_waits(record.exec_id)
        backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value="a")
        before = snapshot(backend, record.exec_id)
        for state in (WaitState.RESOLVED, WaitState.ABORTED):
            with pytest.raises(WaitNotPendingError) as info:
                backend.resolve_wait(record.exec_id, wait.wait_id, state=state, value="b")
            assert info.value.exec_id == record.exec_id
        assert snapshot(backend, record.exec_id) == before

    def test_resolve_wait_needs_a_final_state(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        [wait] = backend.get_waits(record.exec_id)
        before = snapshot(backend, record.exec_id)
        with pytest.raises(ValueError):
            backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.PENDING)
        assert snapshot(backend, record.exec_id) == before

    def test_resolve_unknown_wait_raises_not_found(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        other = put_in_state(backend, ExecutionState.WAITING)
        [foreign] = backend.get_waits(other.exec_id)
        before = snapshot(backend, record.exec_id)
        for wait_id in ("wait-missing", foreign.wait_id):
            with pytest.raises(NotFoundError) as info:
                backend.resolve_wait(record.exec_id, wait_id, state=WaitState.RESOLVED)
            assert not isinstance(info.value, WaitNotPendingError)
        assert snapshot(backend, record.exec_id) == before
        with pytest.raises(ExecutionNotFoundError):
            backend.resolve_wait("ex-missing", foreign.wait_id, state=WaitState.RESOLVED)
        assert wait_state(backend, other.exec_id, "approve") is WaitState.PENDING

    def test_abort_wait_cancels_a_waiting_execution(self, backend: Backend) -> None:
        record = running(backend)
        a = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id, "a"))
        backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id, "b"))
        assert backend.suspend(record.exec_id, record.epoch)
        resolution = backend.resolve_wait(
            record.exec_id, a.wait_id, state=WaitState.ABORTED, value="ignored"
        )
        assert resolution.should_continue is False
        assert resolution.wait.state is WaitState.ABORTED
        assert resolution.wait.value is None
        assert resolution.execution.state is ExecutionState.CANCELLED
        assert resolution.execution.ended_at is not None
        assert resolution.execution == backend.get_execution(record.exec_id)
        assert wait_state(backend, record.exec_id, "b") is WaitState.ABORTED

    def test_abort_wait_cancels_a_pending_execution(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        backend.restart(record.exec_id, from_states=[ExecutionState.WAITING])
        [wait] = backend.get_waits(record.exec_id)
        resolution = backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.ABORTED)
        assert resolution.execution.state is ExecutionState.CANCELLED
        assert backend.get_execution(record.exec_id).state is ExecutionState.CANCELLED

    def test_abort_wait_of_a_running_execution_requests_cancel(self, backend: Backend) -> None:
        record = running(backend)
        wait = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        resolution = backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.ABORTED)
        assert resolution.should_continue is False
        assert resolution.execution.state is ExecutionState.RUNNING
        assert resolution.execution.cancel_requested is True
        assert backend.heartbeat(record.exec_id, record.epoch, lease_seconds=5) is True

    def test_abort_wait_of_a_finished_execution_changes_only_the_wait(
        self, backend: Backend
    ) -> None:
        record = running(backend)
        wait = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))
        failed = backend.finish(record.exec_id, record.epoch, state=ExecutionState.FAILED)
        resolution = backend.resolve_wait(record.exec_id, wait.wait_id, state=WaitState.ABORTED)
        assert resolution.wait.state is WaitState.ABORTED
        assert resolution.execution == failed
        assert backend.get_execution(record.exec_id) == failed
