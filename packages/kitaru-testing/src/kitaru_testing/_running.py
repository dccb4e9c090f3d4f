"""Conformance: calls and attempts journaled as ``running`` while a checkpoint runs, ended by
the final commit, and failed when their execution finishes without one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from kitaru.backend import (
    AttemptRecord,
    Backend,
    CallRecord,
    CallState,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    WaitState,
    ended_failure,
)
from kitaru.errors import FailureOrigin

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    at,
    make_artifact,
    make_attempt,
    make_call,
    make_failure,
    make_wait,
    new_id,
    running,
)

__all__ = ["RunningCallTests"]


def _in_progress(
    backend: Backend, record: ExecutionRecord
) -> tuple[CallRecord, AttemptRecord, CallRecord, list[AttemptRecord]]:
    """Journal, as a runner does, a completed call and a call in its second attempt (the
    first failed) that is still running. Returns ``(completed call, its attempt, running
    call, [failed attempt, running attempt])``."""
    exec_id, epoch = record.exec_id, record.epoch
    done = make_call(exec_id, "plan", seq=0)
    done_attempt = make_attempt(exec_id, "plan", started_at=at(1), ended_at=at(2))
    backend.save_call(exec_id, epoch, done, attempts=[done_attempt])
    live = make_call(
        exec_id,
        "fetch",
        seq=1,
        state=CallState.RUNNING,
        ended_at=None,
        output_artifact_id=None,
        started_at=at(3),
    )
    failed = make_attempt(
        exec_id,
        "fetch",
        state=CallState.FAILED,
        failure=make_failure(),
        started_at=at(3),
        ended_at=at(4),
    )
    now_running = make_attempt(
        exec_id,
        "fetch",
        attempt_id=live.call_id,
        number=2,
        state=CallState.RUNNING,
        started_at=at(5),
        ended_at=None,
    )
    backend.save_call(exec_id, epoch, live, attempts=[failed, now_running])
    return done, done_attempt, live, [failed, now_running]


def _utc(value: datetime | None) -> datetime:
    assert value is not None and value.utcoffset() is not None
    return value


class RunningCallTests(ConformanceBase):
    """Running calls and attempts: replaced by their final state; failed when the execution
    finishes (finish, mark_lost, request_cancel, an aborted wait)."""

    def test_a_running_attempt_is_replaced_by_its_final_state(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        _, done_attempt, live, [failed, now_running] = _in_progress(backend, record)
        assert backend.get_attempts(exec_id) == [done_attempt, failed, now_running]
        # journaled again while it still runs (newer metadata): still one row per attempt
        again = replace(live, metadata={"progress": 0.5})
        backend.save_call(exec_id, record.epoch, again, attempts=[failed, now_running])
        assert backend.get_calls(exec_id)[1] == again
        assert backend.get_attempts(exec_id) == [done_attempt, failed, now_running]
        # the final commit: the same call and attempt keys, now completed
        ended = replace(now_running, state=CallState.COMPLETED, ended_at=at(6))
        output = make_artifact(exec_id, invocation_id="fetch")
        final = replace(
            live,
            state=CallState.COMPLETED,
            ended_at=at(6),
            output_artifact_id=output.artifact_id,
            metadata={"progress": 1.0},
        )
        backend.save_call(
            exec_id, record.epoch, final, attempts=[failed, ended], artifacts=[output]
        )
        assert backend.get_calls(exec_id)[1] == final
        assert backend.get_attempts(exec_id) == [done_attempt, failed, ended]
        assert backend.list_artifacts(exec_id) == [output]

    def test_a_running_attempt_can_end_failed(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        _, done_attempt, live, [failed, now_running] = _in_progress(backend, record)
        failure = make_failure(message="second try failed too")
        ended = replace(now_running, state=CallState.FAILED, ended_at=at(6), failure=failure)
        final = replace(live, state=CallState.FAILED, ended_at=at(6), failure=failure)
        backend.save_call(exec_id, record.epoch, final, attempts=[failed, ended])
        assert backend.get_calls(exec_id)[1] == final
        assert backend.get_attempts(exec_id) == [done_attempt, failed, ended]

    def test_save_attempt_replaces_only_a_running_attempt(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        unfinished = make_attempt(exec_id, None, state=CallState.RUNNING, ended_at=None)
        backend.save_attempt(exec_id, record.epoch, unfinished)
        ended = replace(unfinished, state=CallState.FAILED, ended_at=at(12), failure=make_failure())
        backend.save_attempt(exec_id, record.epoch, ended)
        assert backend.get_attempts(exec_id) == [ended]
        # a finished attempt is kept, whatever is written later under its id
        for later in (unfinished, replace(ended, state=CallState.COMPLETED, failure=None)):
            backend.save_attempt(exec_id, record.epoch, later)
            backend.save_call(exec_id, record.epoch, make_call(exec_id), attempts=[later])
            assert backend.get_attempts(exec_id) == [ended]

    def test_a_running_call_never_replaces_a_completed_one(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        done, done_attempt, _, _ = _in_progress(backend, record)
        late = replace(done, state=CallState.RUNNING, ended_at=None, call_id=new_id("call"))
        late_attempt = make_attempt(
            exec_id, "plan", attempt_id=late.call_id, state=CallState.RUNNING, ended_at=None
        )
        backend.save_call(exec_id, record.epoch, late, attempts=[late_attempt])
        assert backend.get_calls(exec_id)[0] == done
        assert [a for a in backend.get_attempts(exec_id) if a.invocation_id == "plan"] == [
            done_attempt
        ]

    def test_mark_lost_fails_running_calls_and_attempts(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        done, done_attempt, live, [failed, now_running] = _in_progress(backend, record)
        lost = make_failure(message="Runner lost: gone", origin=FailureOrigin.RUNTIME)
        assert backend.mark_lost(exec_id, record.epoch, failure=lost) is True
        calls = backend.get_calls(exec_id)
        assert calls[0] == done
        assert calls[1] == replace(
            live, state=CallState.FAILED, failure=lost, ended_at=_utc(calls[1].ended_at)
        )
        attempts = backend.get_attempts(exec_id)
        assert attempts[:2] == [done_attempt, failed]
        assert attempts[2] == replace(
            now_running, state=CallState.FAILED, failure=lost, ended_at=_utc(attempts[2].ended_at)
        )
        assert backend.get_execution(exec_id).state is ExecutionState.FAILED

    def test_a_stale_mark_lost_leaves_running_calls(self, backend: Backend) -> None:
        record = running(backend)
        _in_progress(backend, record)
        before = (backend.get_calls(record.exec_id), backend.get_attempts(record.exec_id))
        assert backend.mark_lost(record.exec_id, record.epoch + 1, failure=make_failure()) is False
        assert (backend.get_calls(record.exec_id), backend.get_attempts(record.exec_id)) == before

    @pytest.mark.parametrize(
        ("state", "failure", "reason", "expected"),
        [
            (
                ExecutionState.FAILED,
                make_failure(message="flow failed"),
                "flow failed",
                make_failure(message="flow failed"),
            ),
            (
                ExecutionState.CANCELLED,
                None,
                "Cancelled by request.",
                FailureRecord(message="Cancelled by request.", origin=FailureOrigin.RUNTIME),
            ),
            (
                ExecutionState.COMPLETED,
                None,
                None,
                ended_failure(failure=None, status_reason=None, state=ExecutionState.COMPLETED),
            ),
        ],
        ids=["failed", "cancelled", "completed"],
    )
    def test_finish_fails_running_calls_and_attempts(
        self,
        backend: Backend,
        state: ExecutionState,
        failure: FailureRecord | None,
        reason: str | None,
        expected: FailureRecord,
    ) -> None:
        record = running(backend)
        exec_id = record.exec_id
        done, done_attempt, live, [failed, now_running] = _in_progress(backend, record)
        backend.finish(exec_id, record.epoch, state=state, failure=failure, status_reason=reason)
        calls = backend.get_calls(exec_id)
        assert calls == [
            done,
            replace(live, state=CallState.FAILED, failure=expected, ended_at=calls[1].ended_at),
        ]
        _utc(calls[1].ended_at)
        attempts = backend.get_attempts(exec_id)
        assert attempts == [
            done_attempt,
            failed,
            replace(
                now_running,
                state=CallState.FAILED,
                failure=expected,
                ended_at=_utc(attempts[2].ended_at),
            ),
        ]
        assert expected.origin is not FailureOrigin.UNKNOWN and expected.message

    @pytest.mark.parametrize("how", ["request_cancel", "abort_wait"])
    def test_cancelling_a_suspended_execution_fails_its_running_calls(
        self, backend: Backend, how: str
    ) -> None:
        """A checkpoint that waits inside (an adapter's agent run) stays ``running`` while
        its execution is ``waiting``; cancelling the execution ends it."""
        record = running(backend)
        exec_id = record.exec_id
        done, _, live, [failed, now_running] = _in_progress(backend, record)
        wait = backend.create_wait(exec_id, record.epoch, make_wait(exec_id))
        assert backend.suspend(exec_id, record.epoch)
        assert backend.get_calls(exec_id)[1] == live  # still running while it waits
        if how == "request_cancel":
            backend.request_cancel(exec_id)
            reason = "Cancelled by request."
        else:
            backend.resolve_wait(exec_id, wait.wait_id, state=WaitState.ABORTED)
            reason = f"Wait '{wait.name}' was aborted."
        execution = backend.get_execution(exec_id)
        assert (execution.state, execution.status_reason) == (ExecutionState.CANCELLED, reason)
        expected = FailureRecord(message=reason, origin=FailureOrigin.RUNTIME)
        calls = backend.get_calls(exec_id)
        assert calls[0] == done
        assert (calls[1].state, calls[1].failure) == (CallState.FAILED, expected)
        _utc(calls[1].ended_at)
        attempts = backend.get_attempts(exec_id)
        assert attempts[1] == failed
        assert attempts[2] == replace(
            now_running,
            state=CallState.FAILED,
            failure=expected,
            ended_at=_utc(attempts[2].ended_at),
        )

    def test_cancelling_a_running_execution_leaves_its_running_calls(
        self, backend: Backend
    ) -> None:
        """Its runner still owns them (it stops at the next boundary and finishes)."""
        record = running(backend)
        _in_progress(backend, record)
        before = (backend.get_calls(record.exec_id), backend.get_attempts(record.exec_id))
        backend.request_cancel(record.exec_id)
        assert (backend.get_calls(record.exec_id), backend.get_attempts(record.exec_id)) == before
