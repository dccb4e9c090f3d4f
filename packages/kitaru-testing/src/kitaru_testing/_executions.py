"""Conformance: creating, reading, listing and finding executions; records are values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta, timezone

import pytest
from kitaru.backend import (
    Backend,
    Capability,
    ExecutionNotFoundError,
    ExecutionState,
    LeaseRecord,
    NotFoundError,
    Payload,
)
from kitaru.errors import KitaruStateError

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    BINARY,
    at,
    make_execution,
    make_failure,
    new_id,
    snapshot,
)

__all__ = ["ExecutionTests"]


class ExecutionTests(ConformanceBase):
    """create_execution, get_execution, list_executions, find_execution_ids."""

    def test_capabilities_are_declared_flags(self, backend: Backend) -> None:
        assert isinstance(backend.capabilities, frozenset)
        assert all(isinstance(c, Capability) for c in backend.capabilities)
        if Capability.CROSS_HOST in backend.capabilities:
            assert Capability.CROSS_PROCESS in backend.capabilities

    def test_create_execution_stores_the_record(self, backend: Backend) -> None:
        record = make_execution(
            inputs=Payload(serializer="json", type_ref="builtins.dict", inline=b'{"q": 1}'),
            stack="prod",
            original_exec_id="ex-source",
            replay_plan={"reuse": {"plan": "art-1", "fetch": None}, "overrides": {}},
        )
        stored = backend.create_execution(record)
        assert stored == record
        assert backend.get_execution(record.exec_id) == record

    def test_create_execution_keeps_every_field_but_epoch_and_lease(self, backend: Backend) -> None:
        record = make_execution(
            state=ExecutionState.FAILED,
            status_reason="imported",
            failure=make_failure(),
            result_artifact_id="art-9",
            started_at=at(1),
            ended_at=at(2),
            cancel_requested=True,
            round=3,
            epoch=7,
            lease=LeaseRecord(owner="x", host="h", pid=1, heartbeat_at=at(1), expires_at=at(31)),
        )
        stored = backend.create_execution(record)
        expected = replace(record, epoch=0, lease=None)
        assert stored == expected
        assert backend.get_execution(record.exec_id) == expected

    def test_create_execution_with_uri_inputs(self, backend: Backend) -> None:
        inputs = Payload(
            serializer="pickle", uri="file:///store/ab/cdef", size=123456789, sha256="ab" * 32
        )
        record = backend.create_execution(make_execution(inputs=inputs))
        assert backend.get_execution(record.exec_id).inputs == inputs

    def test_create_execution_with_binary_inputs(self, backend: Backend) -> None:
        inputs = Payload(serializer="bytes", inline=BINARY, size=len(BINARY))
        record = backend.create_execution(make_execution(inputs=inputs))
        got = backend.get_execution(record.exec_id).inputs
        assert got is not None and got.inline == BINARY and type(got.inline) is bytes

    def test_create_execution_twice_is_refused(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        with pytest.raises(KitaruStateError):
            backend.create_execution(make_execution(exec_id=record.exec_id, flow_name="other"))
        assert backend.get_execution(record.exec_id) == record
        assert backend.list_executions() == [record]

    def test_get_unknown_execution_raises_not_found(self, backend: Backend) -> None:
        with pytest.raises(ExecutionNotFoundError) as info:
            backend.get_execution("ex-missing")
        assert isinstance(info.value, NotFoundError)
        assert isinstance(info.value, LookupError)
        assert info.value.exec_id == "ex-missing"

    @pytest.mark.parametrize(
        "read", ["get_calls", "get_attempts", "get_waits", "list_artifacts", "get_logs"]
    )
    def test_per_execution_reads_of_unknown_execution_raise(
        self, backend: Backend, read: str
    ) -> None:
        with pytest.raises(ExecutionNotFoundError):
            getattr(backend, read)("ex-missing")

    def test_per_execution_reads_of_new_execution_are_empty(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        state = snapshot(backend, record.exec_id)
        assert (state.calls, state.attempts, state.waits, state.artifacts, state.logs) == (
            [],
            [],
            [],
            [],
            [],
        )

    def test_timestamps_round_trip_as_aware_datetimes(self, backend: Backend) -> None:
        plus_two = timezone(timedelta(hours=2))
        created = at(0).astimezone(plus_two)
        record = backend.create_execution(make_execution(created_at=created))
        got = backend.get_execution(record.exec_id).created_at
        assert got == created
        assert got.tzinfo is not None
        assert got.astimezone(UTC) == at(0)

    def test_list_executions_newest_first(self, backend: Backend) -> None:
        old = backend.create_execution(make_execution(exec_id="ex-b", created_at=at(1)))
        new = backend.create_execution(make_execution(exec_id="ex-c", created_at=at(3)))
        mid = backend.create_execution(make_execution(exec_id="ex-a", created_at=at(2)))
        assert backend.list_executions() == [new, mid, old]

    def test_list_executions_breaks_ties_by_exec_id_descending(self, backend: Backend) -> None:
        ids = ["ex-B", "ex-a", "ex-c", "ex-A"]
        for exec_id in ids:
            backend.create_execution(make_execution(exec_id=exec_id, created_at=at(5)))
        assert [r.exec_id for r in backend.list_executions()] == sorted(ids, reverse=True)

    def test_list_executions_filters_and_limits(self, backend: Backend) -> None:
        a1 = backend.create_execution(make_execution(flow_name="a", created_at=at(1)))
        a2 = backend.create_execution(
            make_execution(flow_name="a", created_at=at(2), state=ExecutionState.COMPLETED)
        )
        b1 = backend.create_execution(
            make_execution(flow_name="b", created_at=at(3), state=ExecutionState.FAILED)
        )
        assert backend.list_executions(flow_name="a") == [a2, a1]
        assert backend.list_executions(flow_name="missing") == []
        assert backend.list_executions(states=[ExecutionState.PENDING]) == [a1]
        done = [ExecutionState.COMPLETED, ExecutionState.FAILED]
        assert backend.list_executions(states=done) == [b1, a2]
        assert backend.list_executions(states=[]) == []
        assert backend.list_executions(flow_name="a", states=done) == [a2]
        assert backend.list_executions(limit=2) == [b1, a2]
        assert backend.list_executions(flow_name="a", limit=1) == [a2]
        assert backend.list_executions(limit=0) == []
        assert backend.list_executions(limit=10) == [b1, a2, a1]

    def test_find_execution_ids_by_prefix(self, backend: Backend) -> None:
        ids = ["abc-2", "abc-1", "abd-1", "ABC-3", "xabc", "ab_x", "ab%y", "abz"]
        for exec_id in ids:
            backend.create_execution(make_execution(exec_id=exec_id))
        assert backend.find_execution_ids("abc") == ["abc-1", "abc-2"]
        assert backend.find_execution_ids("ab", limit=3) == ["ab%y", "ab_x", "abc-1"]
        assert backend.find_execution_ids("ab_") == ["ab_x"]  # no LIKE wildcards
        assert backend.find_execution_ids("ab%") == ["ab%y"]
        assert backend.find_execution_ids("ABC") == ["ABC-3"]  # case-sensitive
        assert backend.find_execution_ids("nope") == []
        assert backend.find_execution_ids("", limit=100) == sorted(ids)
        assert len(backend.find_execution_ids("")) == 8  # default limit is 10

    def test_find_execution_ids_default_limit_is_ten(self, backend: Backend) -> None:
        ids = sorted(f"ex-{n:02d}" for n in range(12))
        for exec_id in ids:
            backend.create_execution(make_execution(exec_id=exec_id))
        assert backend.find_execution_ids("ex-") == ids[:10]

    def test_records_do_not_share_mutable_state(self, backend: Backend) -> None:
        metadata = {"owner": {"team": "a"}}
        spec = {"retries": [1, 2]}
        stored = backend.create_execution(make_execution(metadata=metadata, spec=spec))
        metadata["owner"]["team"] = "changed by the caller"
        spec["retries"].append(3)
        got = backend.get_execution(stored.exec_id)
        assert got.metadata == {"owner": {"team": "a"}}
        assert got.spec == {"retries": [1, 2]}
        got.metadata["owner"]["team"] = "changed through a returned record"
        assert backend.get_execution(stored.exec_id).metadata == {"owner": {"team": "a"}}

    def test_ids_are_opaque_strings(self, backend: Backend) -> None:
        exec_id = new_id("ünï/cødé '\"; DROP")
        record = backend.create_execution(make_execution(exec_id=exec_id))
        assert backend.get_execution(exec_id) == record
        assert backend.find_execution_ids(exec_id[:8]) == [exec_id]
