"""Conformance: artifacts, execution metadata and runtime logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from kitaru.backend import (
    Backend,
    CallState,
    ExecutionNotFoundError,
    ExecutionState,
    NotFoundError,
    Payload,
)

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import (
    BINARY,
    at,
    make_artifact,
    make_attempt,
    make_call,
    make_execution,
    make_log,
    new_id,
    put_in_state,
    running,
)

__all__ = ["DataTests"]

MERGES: list[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]] = [
    ({"a": {"x": 1}}, {"a": {"y": 2}}, {"a": {"x": 1, "y": 2}}),
    ({"a": 1, "b": 2}, {"a": 3}, {"a": 3, "b": 2}),
    ({"a": {"x": 1}}, {"a": 5}, {"a": 5}),
    ({"a": 5}, {"a": {"x": 1}}, {"a": {"x": 1}}),
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
    (
        {"a": {"b": {"c": 1, "d": 2}}},
        {"a": {"b": {"d": 3, "e": 4}}},
        {"a": {"b": {"c": 1, "d": 3, "e": 4}}},
    ),
    ({"a": {"x": 1}}, {"a": None}, {"a": None}),
    ({}, {"k": "ünï", "f": 0.5, "t": True}, {"k": "ünï", "f": 0.5, "t": True}),
    ({"a": 1}, {}, {"a": 1}),
]


class DataTests(ConformanceBase):
    """put_artifact, get_artifact, list_artifacts, merge_metadata, append_logs, get_logs,
    count_children."""

    # -- artifacts -------------------------------------------------------------------------

    def test_inline_binary_artifact_round_trips(self, backend: Backend) -> None:
        record = running(backend)
        artifact = make_artifact(record.exec_id)
        backend.put_artifact(record.exec_id, record.epoch, artifact)
        got = backend.get_artifact(artifact.artifact_id)
        assert got == artifact
        assert got.payload.inline == BINARY and type(got.payload.inline) is bytes
        assert isinstance(got.tags, tuple)
        assert backend.list_artifacts(record.exec_id) == [artifact]

    def test_empty_inline_payload_stays_empty_bytes(self, backend: Backend) -> None:
        record = running(backend)
        artifact = make_artifact(
            record.exec_id, payload=Payload(serializer="bytes", inline=b""), tags=(), kind=None
        )
        backend.put_artifact(record.exec_id, record.epoch, artifact)
        got = backend.get_artifact(artifact.artifact_id)
        assert got == artifact
        assert got.payload.inline == b"" and got.payload.uri is None

    def test_uri_artifact_round_trips(self, backend: Backend) -> None:
        record = running(backend)
        payload = Payload(
            serializer="pydantic",
            type_ref="app.models:Report",
            uri="s3://bucket/kitaru/ab/abcdef0123",
            size=10 * 1024**3,
            sha256="ab" * 32,
        )
        artifact = make_artifact(
            record.exec_id, payload=payload, invocation_id=None, save_type="flow_output"
        )
        backend.put_artifact(record.exec_id, record.epoch, artifact)
        assert backend.get_artifact(artifact.artifact_id) == artifact

    def test_put_artifact_is_idempotent_by_id(self, backend: Backend) -> None:
        record = running(backend)
        artifact = make_artifact(record.exec_id)
        backend.put_artifact(record.exec_id, record.epoch, artifact)
        backend.put_artifact(
            record.exec_id,
            record.epoch,
            make_artifact(record.exec_id, artifact_id=artifact.artifact_id, name="x"),
        )
        assert backend.list_artifacts(record.exec_id) == [artifact]

    def test_put_artifacts_batch_is_idempotent_and_fenced(self, backend: Backend) -> None:
        from kitaru.backend import FencingError

        record = running(backend)
        first = make_artifact(record.exec_id, name="a", created_at=at(1))
        second = make_artifact(record.exec_id, name="b", created_at=at(2))
        backend.put_artifacts(record.exec_id, record.epoch, [first, second])
        backend.put_artifacts(record.exec_id, record.epoch, [first])
        backend.put_artifacts(record.exec_id, record.epoch, [])
        assert backend.list_artifacts(record.exec_id) == [first, second]
        with pytest.raises(FencingError):
            backend.put_artifacts(
                record.exec_id, record.epoch + 1, [make_artifact(record.exec_id, name="zombie")]
            )
        assert [a.name for a in backend.list_artifacts(record.exec_id)] == ["a", "b"]

    def test_put_artifacts_unsynced_is_a_normal_commit(self, backend: Backend) -> None:
        """``sync=False`` only relaxes power-loss durability: the batch is committed, readable
        at once (also after a synced write), idempotent and fenced like a synced one."""
        from kitaru.backend import FencingError

        record = running(backend)
        first = make_artifact(record.exec_id, name="event", created_at=at(1))
        backend.put_artifacts(record.exec_id, record.epoch, [first], sync=False)
        assert backend.get_artifact(first.artifact_id) == first
        second = make_artifact(record.exec_id, name="synced", created_at=at(2))
        backend.put_artifacts(record.exec_id, record.epoch, [second])
        backend.put_artifacts(record.exec_id, record.epoch, [first], sync=False)
        assert backend.list_artifacts(record.exec_id) == [first, second]
        with pytest.raises(FencingError):
            backend.put_artifacts(
                record.exec_id,
                record.epoch + 1,
                [make_artifact(record.exec_id, name="zombie")],
                sync=False,
            )
        assert [a.name for a in backend.list_artifacts(record.exec_id)] == ["event", "synced"]

    def test_list_artifacts_oldest_first_per_execution(self, backend: Backend) -> None:
        one = running(backend)
        two = running(backend)
        late = make_artifact(one.exec_id, created_at=at(50))
        early = make_artifact(one.exec_id, created_at=at(40))
        foreign = make_artifact(two.exec_id, created_at=at(45))
        backend.put_artifact(one.exec_id, one.epoch, late)
        backend.put_artifact(two.exec_id, two.epoch, foreign)
        backend.put_artifact(one.exec_id, one.epoch, early)
        assert backend.list_artifacts(one.exec_id) == [early, late]
        assert backend.list_artifacts(two.exec_id) == [foreign]

    def test_get_unknown_artifact_raises_not_found(self, backend: Backend) -> None:
        with pytest.raises(NotFoundError):
            backend.get_artifact("art-missing")

    # -- metadata --------------------------------------------------------------------------

    @pytest.mark.parametrize(("base", "values", "expected"), MERGES)
    def test_merge_metadata(
        self,
        backend: Backend,
        base: Mapping[str, Any],
        values: Mapping[str, Any],
        expected: Mapping[str, Any],
    ) -> None:
        record = running(backend, metadata=base)
        backend.merge_metadata(record.exec_id, record.epoch, values)
        assert backend.get_execution(record.exec_id).metadata == expected

    def test_merge_metadata_accumulates(self, backend: Backend) -> None:
        record = running(backend, metadata={})
        backend.merge_metadata(record.exec_id, record.epoch, {"cost": {"llm": 1}})
        backend.merge_metadata(record.exec_id, record.epoch, {"cost": {"tools": 2}, "n": 1})
        backend.merge_metadata(record.exec_id, record.epoch, {"cost": {"llm": 3}, "n": 2})
        after = backend.get_execution(record.exec_id)
        assert after.metadata == {"cost": {"llm": 3, "tools": 2}, "n": 2}
        assert (after.state, after.epoch) == (ExecutionState.RUNNING, record.epoch)

    # -- logs ------------------------------------------------------------------------------

    def test_logs_come_back_in_append_order(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        lines = [
            make_log(
                record.exec_id,
                f"line {n}",
                timestamp=at(100 - n),  # order is append order, not timestamp order
                invocation_id=("a" if n % 2 else "b") if n % 3 else None,
                source="runner" if n % 3 == 0 else "step",
                level="WARNING" if n == 4 else "INFO",
                stream=None if n == 5 else "stderr",
                lineno=None if n == 6 else n,
            )
            for n in range(30)
        ]
        backend.append_logs(lines[:10])
        backend.append_logs(lines[10:])
        assert backend.get_logs(record.exec_id) == lines

    def test_get_logs_filters_and_limits(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        other = backend.create_execution(make_execution())
        lines = [
            make_log(record.exec_id, "a1", invocation_id="a"),
            make_log(other.exec_id, "other", invocation_id="a"),
            make_log(record.exec_id, "r1", invocation_id=None, source="runner"),
            make_log(record.exec_id, "b1", invocation_id="b"),
            make_log(record.exec_id, "a2", invocation_id="a"),
            make_log(record.exec_id, "a3", invocation_id="a", source="runner"),
        ]
        backend.append_logs(lines)
        exec_id = record.exec_id

        def messages(**filters: Any) -> list[str]:
            return [r.message for r in backend.get_logs(exec_id, **filters)]

        assert messages() == ["a1", "r1", "b1", "a2", "a3"]
        assert messages(invocation_id="a") == ["a1", "a2", "a3"]
        assert messages(source="runner") == ["r1", "a3"]
        assert messages(invocation_id="a", source="step") == ["a1", "a2"]
        assert messages(limit=2) == ["a1", "r1"]
        assert messages(invocation_id="a", limit=2) == ["a1", "a2"]
        assert messages(limit=0) == []
        assert messages(invocation_id="zzz") == []
        assert [r.message for r in backend.get_logs(other.exec_id)] == ["other"]

    def test_append_logs_is_not_fenced(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.COMPLETED)
        line = make_log(record.exec_id, "late line from a zombie")
        backend.append_logs([line])
        assert backend.get_logs(record.exec_id) == [line]

    def test_append_no_logs(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        backend.append_logs([])
        assert backend.get_logs(record.exec_id) == []

    def test_append_logs_for_unknown_execution_appends_nothing(self, backend: Backend) -> None:
        record = backend.create_execution(make_execution())
        batch = [make_log(record.exec_id, "kept?"), make_log("ex-missing", "orphan")]
        with pytest.raises(ExecutionNotFoundError):
            backend.append_logs(batch)
        assert backend.get_logs(record.exec_id) == []  # one transaction: all or nothing

    # -- counts ----------------------------------------------------------------------------

    def test_count_children_counts_calls_and_artifacts(self, backend: Backend) -> None:
        busy = running(backend)
        idle = backend.create_execution(make_execution())
        exec_id, epoch = busy.exec_id, busy.epoch
        done = make_call(exec_id, "a")
        backend.save_call(
            exec_id,
            epoch,
            done,
            artifacts=[make_artifact(exec_id, artifact_id=done.output_artifact_id)],
        )
        unfinished = make_call(
            exec_id, "b", seq=1, state=CallState.RUNNING, ended_at=None, output_artifact_id=None
        )
        backend.save_call(exec_id, epoch, unfinished, attempts=[make_attempt(exec_id, "b")])
        backend.put_artifact(exec_id, epoch, make_artifact(exec_id, invocation_id=None))
        backend.put_artifact(exec_id, epoch, make_artifact(exec_id, save_type="flow_output"))
        backend.put_artifact(exec_id, epoch, make_artifact(exec_id, save_type="event"))
        backend.save_attempt(exec_id, epoch, make_attempt(exec_id, None))
        backend.append_logs([make_log(exec_id)])
        got = backend.count_children([exec_id, "ex-missing", idle.exec_id])
        assert got == {exec_id: (2, 3), idle.exec_id: (0, 0)}
        assert all(type(n) is int for pair in got.values() for n in pair)
        assert backend.count_children([idle.exec_id, idle.exec_id]) == {idle.exec_id: (0, 0)}

    def test_count_children_of_nothing(self, backend: Backend) -> None:
        assert backend.count_children([]) == {}
        assert backend.count_children(["ex-missing", "ex-other"]) == {}

    def test_count_children_of_many_ids(self, backend: Backend) -> None:
        records = [running(backend) for _ in range(3)]
        for n, record in enumerate(records):
            for _ in range(n):
                backend.put_artifact(record.exec_id, record.epoch, make_artifact(record.exec_id))
            backend.save_call(record.exec_id, record.epoch, make_call(record.exec_id))
        ids = [new_id("ex-unknown") for _ in range(1200)]
        for position, record in zip((0, 650, 1199), records, strict=True):
            ids[position] = record.exec_id
        expected = {record.exec_id: (1, n) for n, record in enumerate(records)}
        assert backend.count_children(ids) == expected
        assert backend.count_children(tuple(reversed(ids))) == expected
