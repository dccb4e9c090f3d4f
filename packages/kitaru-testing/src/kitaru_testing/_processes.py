"""Conformance: several processes on one journal (only for ``Capability.CROSS_PROCESS``)."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from kitaru.backend import Backend, Capability, ExecutionState, WaitState

from kitaru_testing import _workers
from kitaru_testing._base import ConformanceBase, require_capability
from kitaru_testing._records import make_execution, put_in_state, running

__all__ = ["ProcessTests", "run_processes"]

#: Seconds a child may take to start (spawn imports the interpreter state from scratch).
_DEADLINE_SECONDS = 90.0


def run_processes(
    target: Callable[..., None], n: int, args: Callable[[int], tuple[Any, ...]]
) -> list[tuple[int, str, Any]]:
    """Start ``n`` spawned processes ``target(*args(i), start, results)`` that wait at one
    barrier, and collect one ``(index, outcome, detail)`` report from each."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(n)
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(*args(i), start, results), daemon=True)
        for i in range(n)
    ]
    for process in processes:
        process.start()
    reports: list[tuple[int, str, Any]] = []
    deadline = time.monotonic() + _DEADLINE_SECONDS
    try:
        while len(reports) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                reports.append(results.get(timeout=min(remaining, 1.0)))
            except queue.Empty:
                if not any(p.is_alive() for p in processes) and results.empty():
                    break
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        results.close()
        results.join_thread()
    errors = [detail for _, outcome, detail in reports if outcome == "error"]
    assert not errors, "child process failed:\n" + "\n".join(errors)
    assert len(reports) == n, f"only {len(reports)} of {n} child processes reported: {reports}"
    return sorted(reports)


class ProcessTests(ConformanceBase):
    """Races and concurrent writers across ``spawn``-ed processes."""

    def _shared_url(self, backend: Backend, request: pytest.FixtureRequest) -> str:
        require_capability(backend, Capability.CROSS_PROCESS)
        url = request.getfixturevalue("backend_url")
        assert isinstance(url, str)
        return url

    def test_processes_race_for_one_lease(
        self, backend: Backend, request: pytest.FixtureRequest
    ) -> None:
        url = self._shared_url(backend, request)
        created = backend.create_execution(make_execution())
        reports = run_processes(
            _workers.race_acquire_lease,
            8,
            lambda i: (url, self.backend_opener, created.exec_id, i),
        )
        outcomes = Counter(outcome for _, outcome, _ in reports)
        assert outcomes == {"won": 1, "conflict": 7}, reports
        [winner] = [i for i, outcome, _ in reports if outcome == "won"]
        leased = backend.get_execution(created.exec_id)
        assert (leased.state, leased.epoch, leased.round) == (ExecutionState.RUNNING, 1, 1)
        assert leased.lease is not None and leased.lease.owner == f"proc-{winner}"

    def test_processes_race_to_resolve_one_wait(
        self, backend: Backend, request: pytest.FixtureRequest
    ) -> None:
        url = self._shared_url(backend, request)
        record = put_in_state(backend, ExecutionState.WAITING)
        [wait] = backend.get_waits(record.exec_id)
        reports = run_processes(
            _workers.race_resolve_wait,
            8,
            lambda i: (url, self.backend_opener, record.exec_id, wait.wait_id, i),
        )
        outcomes = Counter(outcome for _, outcome, _ in reports)
        assert outcomes == {"won": 1, "not_pending": 7}, reports
        [(winner, should_continue)] = [(i, d) for i, o, d in reports if o == "won"]
        assert should_continue is True
        [stored] = backend.get_waits(record.exec_id)
        assert (stored.state, stored.value) == (WaitState.RESOLVED, {"by": winner})
        assert backend.get_execution(record.exec_id).state is ExecutionState.PENDING

    def test_concurrent_writer_processes_lose_nothing(
        self, backend: Backend, request: pytest.FixtureRequest
    ) -> None:
        url = self._shared_url(backend, request)
        writers, count = 4, 40
        records = [running(backend) for _ in range(writers)]
        reports = run_processes(
            _workers.write_many,
            writers,
            lambda i: (url, self.backend_opener, records[i].exec_id, records[i].epoch, count, i),
        )
        assert [outcome for _, outcome, _ in reports] == ["done"] * writers
        for index, record in enumerate(records):
            exec_id = record.exec_id
            calls = backend.get_calls(exec_id)
            assert [c.seq for c in calls] == list(range(count))
            assert len(backend.get_attempts(exec_id)) == count
            assert {a.artifact_id for a in backend.list_artifacts(exec_id)} == {
                c.output_artifact_id for c in calls
            }
            expected = [f"{index}:{n}:{part}" for n in range(count) for part in "ab"]
            assert [line.message for line in backend.get_logs(exec_id)] == expected
