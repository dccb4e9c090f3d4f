"""Conformance: checkpoint calls, attempts and the cross-execution cache lookup."""

from __future__ import annotations

from dataclasses import replace

import pytest
from kitaru.backend import Backend, CallState, ExecutionState, Payload
from kitaru.errors import FailureOrigin

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    at,
    make_artifact,
    make_attempt,
    make_call,
    make_failure,
    new_id,
    running,
)

__all__ = ["CallTests"]


class CallTests(ConformanceBase):
    """save_call, save_attempt, get_calls, get_attempts, find_cached_call."""

    def test_save_call_stores_call_attempts_and_artifacts(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        call = make_call(
            exec_id,
            "fetch_2",
            seq=3,
            cache_key="k-fetch",
            cached_from="ex-old/fetch_2",
            overridden=True,
            metadata={"usage": {"tokens": [1, 2, 3]}, "score": 0.25, "ok": True, "none": None},
        )
        attempt = make_attempt(exec_id, "fetch_2")
        artifact = make_artifact(
            exec_id, artifact_id=call.output_artifact_id, save_type="step_output"
        )
        cancel = backend.save_call(
            exec_id, record.epoch, call, attempts=[attempt], artifacts=[artifact]
        )
        assert cancel is False
        assert backend.get_calls(exec_id) == [call]
        assert backend.get_attempts(exec_id) == [attempt]
        assert backend.list_artifacts(exec_id) == [artifact]
        assert backend.get_artifact(artifact.artifact_id) == artifact
        [got] = backend.get_calls(exec_id)
        assert isinstance(got.parent_invocation_ids, tuple)

    def test_save_call_unsynced_is_a_normal_commit(self, backend: Backend) -> None:
        """``sync=False`` only relaxes power-loss durability: the call is stored, idempotent
        and fenced as with a synced commit."""
        from kitaru.backend import FencingError

        record = running(backend)
        call = make_call(record.exec_id, "graph_node")
        attempt = make_attempt(record.exec_id, "graph_node")
        artifact = make_artifact(
            record.exec_id, artifact_id=call.output_artifact_id, save_type="step_output"
        )
        backend.save_call(
            record.exec_id, record.epoch, call, attempts=[attempt], artifacts=[artifact], sync=False
        )
        backend.save_call(record.exec_id, record.epoch, call, sync=False)
        assert backend.get_calls(record.exec_id) == [call]
        assert backend.get_attempts(record.exec_id) == [attempt]
        assert backend.list_artifacts(record.exec_id) == [artifact]
        with pytest.raises(FencingError):
            backend.save_call(
                record.exec_id,
                record.epoch + 1,
                make_call(record.exec_id, "zombie"),
                sync=False,
            )
        assert [c.invocation_id for c in backend.get_calls(record.exec_id)] == ["graph_node"]

    def test_save_call_with_a_failure(self, backend: Backend) -> None:
        record = running(backend)
        failure = make_failure(origin=FailureOrigin.DIVERGENCE, exception_type=None)
        call = make_call(
            record.exec_id,
            state=CallState.FAILED,
            failure=failure,
            output_artifact_id=None,
            ended_at=None,
            checkpoint_type=None,
            parent_invocation_ids=(),
            metadata={},
        )
        backend.save_call(record.exec_id, record.epoch, call)
        assert backend.get_calls(record.exec_id) == [call]

    def test_save_call_upserts_an_unfinished_call(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        started = make_call(
            exec_id, state=CallState.RUNNING, ended_at=None, output_artifact_id=None
        )
        backend.save_call(exec_id, record.epoch, started)
        failed = replace(started, state=CallState.FAILED, failure=make_failure(), ended_at=at(12))
        backend.save_call(exec_id, record.epoch, failed)
        assert backend.get_calls(exec_id) == [failed]
        done = replace(failed, state=CallState.COMPLETED, failure=None, output_artifact_id="a-1")
        backend.save_call(exec_id, record.epoch, done)
        assert backend.get_calls(exec_id) == [done]

    def test_save_call_never_overwrites_a_completed_call(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        first = make_call(exec_id)
        attempt = make_attempt(exec_id)
        artifact = make_artifact(exec_id, artifact_id=first.output_artifact_id)
        backend.save_call(exec_id, record.epoch, first, attempts=[attempt], artifacts=[artifact])
        again = replace(first, call_id=new_id("call"), output_artifact_id="other", seq=9)
        cancel = backend.save_call(
            exec_id,
            record.epoch,
            again,
            attempts=[make_attempt(exec_id, number=2)],
            artifacts=[make_artifact(exec_id, artifact_id="other")],
        )
        assert cancel is False
        assert backend.get_calls(exec_id) == [first]
        assert backend.get_attempts(exec_id) == [attempt]
        assert backend.list_artifacts(exec_id) == [artifact]
        failed = replace(first, state=CallState.FAILED, failure=make_failure())
        backend.save_call(exec_id, record.epoch, failed)
        assert backend.get_calls(exec_id) == [first]

    def test_save_call_keeps_existing_attempts_and_artifacts(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        running_call = make_call(
            exec_id, state=CallState.RUNNING, ended_at=None, output_artifact_id=None
        )
        first_attempt = make_attempt(exec_id, state=CallState.FAILED, failure=make_failure())
        early = make_artifact(exec_id, name="draft", created_at=at(30))
        backend.save_call(
            exec_id, record.epoch, running_call, attempts=[first_attempt], artifacts=[early]
        )
        # (a finished attempt is kept; one stored as running is replaced: see _running.py)
        finished_attempt = replace(first_attempt, state=CallState.COMPLETED, failure=None)
        retry = make_attempt(exec_id, number=2, started_at=at(12), ended_at=at(13))
        renamed = replace(early, name="renamed")
        final = make_artifact(exec_id, name="final", created_at=at(31))
        backend.save_call(
            exec_id,
            record.epoch,
            replace(running_call, state=CallState.COMPLETED, output_artifact_id=final.artifact_id),
            attempts=[finished_attempt, retry],
            artifacts=[renamed, final],
        )
        assert backend.get_attempts(exec_id) == [first_attempt, retry]
        assert backend.list_artifacts(exec_id) == [early, final]

    def test_save_call_reports_cancel_requested(self, backend: Backend) -> None:
        record = running(backend)
        backend.request_cancel(record.exec_id)
        assert backend.save_call(record.exec_id, record.epoch, make_call(record.exec_id)) is True
        again = make_call(record.exec_id)  # same key, already completed: still reports it
        assert backend.save_call(record.exec_id, record.epoch, again) is True

    def test_save_attempt_stores_call_attempts_and_flow_rounds(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        round_1 = make_attempt(
            exec_id,
            None,
            started_at=at(1),
            ended_at=at(2),
            state=CallState.FAILED,
            failure=make_failure(origin=FailureOrigin.USER_CODE),
        )
        unfinished = make_attempt(
            exec_id, "fetch", number=2, started_at=at(5), ended_at=None, state=CallState.RUNNING
        )
        assert backend.save_attempt(exec_id, record.epoch, unfinished) is None
        assert backend.save_attempt(exec_id, record.epoch, round_1) is None
        assert backend.get_attempts(exec_id) == [round_1, unfinished]
        [got_round, _] = backend.get_attempts(exec_id)
        assert got_round.invocation_id is None
        assert backend.get_calls(exec_id) == []
        after = backend.get_execution(exec_id)
        assert (after.state, after.epoch, after.lease) == (
            ExecutionState.RUNNING,
            record.epoch,
            record.lease,
        )

    def test_save_attempt_is_idempotent_by_attempt_id(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        attempt = make_attempt(exec_id, None, started_at=at(1))
        backend.save_attempt(exec_id, record.epoch, attempt)
        changed = replace(attempt, number=7, state=CallState.FAILED, failure=make_failure())
        backend.save_attempt(exec_id, record.epoch, changed)
        backend.save_call(exec_id, record.epoch, make_call(exec_id), attempts=[changed])
        assert backend.get_attempts(exec_id) == [attempt]
        # ... and an attempt first journaled by save_call is kept by save_attempt too.
        by_call = make_attempt(exec_id, "other", started_at=at(3))
        backend.save_call(
            exec_id, record.epoch, make_call(exec_id, "other", seq=1), attempts=[by_call]
        )
        backend.save_attempt(exec_id, record.epoch, replace(by_call, number=9))
        assert backend.get_attempts(exec_id) == [attempt, by_call]

    def test_save_attempt_ids_are_per_execution(self, backend: Backend) -> None:
        one = running(backend)
        two = running(backend)
        first = make_attempt(one.exec_id, None)
        backend.save_attempt(one.exec_id, one.epoch, first)
        second = make_attempt(two.exec_id, None, attempt_id=first.attempt_id, number=2)
        backend.save_attempt(two.exec_id, two.epoch, second)
        assert backend.get_attempts(one.exec_id) == [first]
        assert backend.get_attempts(two.exec_id) == [second]

    def test_get_calls_orders_by_seq(self, backend: Backend) -> None:
        record = running(backend)
        calls = [make_call(record.exec_id, f"step_{n}", seq=n) for n in (2, 0, 10, 1)]
        for call in calls:
            backend.save_call(record.exec_id, record.epoch, call)
        assert backend.get_calls(record.exec_id) == sorted(calls, key=lambda c: c.seq)

    def test_calls_are_per_execution(self, backend: Backend) -> None:
        one = running(backend)
        two = running(backend)
        backend.save_call(one.exec_id, one.epoch, make_call(one.exec_id, "same"))
        call = make_call(two.exec_id, "same", seq=1)
        backend.save_call(two.exec_id, two.epoch, call)
        assert backend.get_calls(two.exec_id) == [call]
        assert len(backend.get_calls(one.exec_id)) == 1

    def test_get_attempts_oldest_first_including_flow_rounds(self, backend: Backend) -> None:
        record = running(backend)
        exec_id = record.exec_id
        round_1 = make_attempt(exec_id, None, started_at=at(1), ended_at=at(2), number=1)
        late = make_attempt(exec_id, "b", started_at=at(7))
        early = make_attempt(exec_id, "a", started_at=at(3), failure=make_failure())
        backend.save_call(exec_id, record.epoch, make_call(exec_id, "b"), attempts=[late])
        backend.save_call(exec_id, record.epoch, make_call(exec_id, "a"), attempts=[early, round_1])
        assert backend.get_attempts(exec_id) == [round_1, early, late]

    def test_find_cached_call_returns_newest_completed_with_output(self, backend: Backend) -> None:
        key = new_id("key")
        older = running(backend)
        newer = running(backend)
        other = running(backend)
        old_hit = make_call(older.exec_id, cache_key=key, ended_at=at(100))
        new_hit = make_call(newer.exec_id, cache_key=key, ended_at=at(200))
        no_output = make_call(
            other.exec_id, "a", cache_key=key, ended_at=at(300), output_artifact_id=None
        )
        failed = make_call(
            other.exec_id,
            "b",
            seq=1,
            cache_key=key,
            state=CallState.FAILED,
            ended_at=at(400),
            failure=make_failure(),
        )
        unfinished = make_call(
            other.exec_id,
            "c",
            seq=2,
            cache_key=key,
            state=CallState.RUNNING,
            ended_at=None,
            started_at=at(500),
        )
        for record, call in [
            (older, old_hit),
            (newer, new_hit),
            (other, no_output),
            (other, failed),
            (other, unfinished),
        ]:
            backend.save_call(record.exec_id, record.epoch, call)
        assert backend.find_cached_call(key) == new_hit
        assert backend.find_cached_call("no-such-key") is None

    def test_find_cached_call_sees_finished_executions(self, backend: Backend) -> None:
        record = running(backend)
        call = make_call(record.exec_id, cache_key="k")
        backend.save_call(record.exec_id, record.epoch, call)
        backend.finish(record.exec_id, record.epoch, state=ExecutionState.COMPLETED)
        assert backend.find_cached_call("k") == call

    def test_large_inline_artifact_round_trips(self, backend: Backend) -> None:
        record = running(backend)
        blob = bytes(range(256)) * 4096  # 1 MiB
        artifact = make_artifact(
            record.exec_id, payload=Payload(serializer="bytes", inline=blob, size=len(blob))
        )
        backend.save_call(
            record.exec_id,
            record.epoch,
            make_call(record.exec_id, output_artifact_id=artifact.artifact_id),
            artifacts=[artifact],
        )
        got = backend.get_artifact(artifact.artifact_id)
        assert got == artifact and type(got.payload.inline) is bytes
