"""Conformance: in-process races. Every backend is thread-safe, so these run for all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kitaru.backend import (
    Backend,
    CallRecord,
    ExecutionRecord,
    ExecutionState,
    FencingError,
    LeaseConflictError,
    WaitNotPendingError,
    WaitResolution,
    WaitState,
)

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import make_call, make_failure, make_wait, put_in_state, running

__all__ = ["ThreadRaceTests", "race"]


def race(n: int, action: Callable[[int], object]) -> dict[int, object]:
    """Run ``action(i)`` for ``i in range(n)`` on threads released together by a barrier.

    Returns each thread's result, or the exception it raised.
    """
    barrier = threading.Barrier(n)
    outcomes: dict[int, object] = {}

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = action(i)
        except Exception as exc:  # collected and asserted by the caller
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == n, f"only {len(outcomes)} of {n} threads finished"
    return outcomes


class ThreadRaceTests(ConformanceBase):
    """Compare-and-set operations raced by threads of one process."""

    def test_acquire_lease_race_has_one_winner_among_threads(self, backend: Backend) -> None:
        created = put_in_state(backend, ExecutionState.PENDING)
        outcomes = race(
            8,
            lambda n: backend.acquire_lease(
                created.exec_id, owner=f"runner-{n}", host="h", pid=n, lease_seconds=30
            ),
        )
        wins = {n: o for n, o in outcomes.items() if isinstance(o, ExecutionRecord)}
        losses = [o for o in outcomes.values() if isinstance(o, LeaseConflictError)]
        assert len(wins) == 1 and len(losses) == 7, outcomes
        [(winner, leased)] = wins.items()
        assert leased.epoch == 1
        assert backend.get_execution(created.exec_id) == leased
        assert leased.lease is not None and leased.lease.owner == f"runner-{winner}"

    def test_should_continue_is_seen_by_exactly_one_thread(self, backend: Backend) -> None:
        record = put_in_state(backend, ExecutionState.WAITING)
        [wait] = backend.get_waits(record.exec_id)
        outcomes = race(
            8,
            lambda n: backend.resolve_wait(
                record.exec_id, wait.wait_id, state=WaitState.RESOLVED, value={"by": n}
            ),
        )
        wins = {n: o for n, o in outcomes.items() if isinstance(o, WaitResolution)}
        losses = [o for o in outcomes.values() if isinstance(o, WaitNotPendingError)]
        assert len(wins) == 1 and len(losses) == 7, outcomes
        [(winner, resolution)] = wins.items()
        assert resolution.should_continue is True
        [stored] = backend.get_waits(record.exec_id)
        assert stored.value == {"by": winner}
        assert backend.get_execution(record.exec_id).state is ExecutionState.PENDING

    def test_suspend_racing_resolve_never_strands_a_run(self, backend: Backend) -> None:
        """The runner's suspend either sees the resolution (returns False and carries on) or
        the resolution sees the suspension (``should_continue``): never neither."""
        for _ in range(10):
            record = running(backend)
            wait = backend.create_wait(record.exec_id, record.epoch, make_wait(record.exec_id))

            def act(n: int, r: ExecutionRecord = record, w_id: str = wait.wait_id) -> object:
                if n == 0:
                    return backend.suspend(r.exec_id, r.epoch)
                return backend.resolve_wait(r.exec_id, w_id, state=WaitState.RESOLVED)

            outcomes = race(2, act)
            suspended, resolution = outcomes[0], outcomes[1]
            assert isinstance(suspended, bool), outcomes
            assert isinstance(resolution, WaitResolution), outcomes
            assert suspended is resolution.should_continue
            expected = ExecutionState.PENDING if suspended else ExecutionState.RUNNING
            assert backend.get_execution(record.exec_id).state is expected

    def test_no_fenced_write_lands_after_the_runner_is_declared_lost(
        self, backend: Backend
    ) -> None:
        """Checkpoint commits racing ``mark_lost``: each commit either is in the journal the
        moment ``mark_lost`` returns, or raises FencingError; none lands afterwards."""
        for _ in range(5):
            record = running(backend)
            exec_id, epoch = record.exec_id, record.epoch
            saved: dict[int, list[CallRecord]] = {1: [], 2: []}

            def act(
                n: int,
                exec_id: str = exec_id,
                epoch: int = epoch,
                saved: dict[int, list[CallRecord]] = saved,
            ) -> object:
                if n == 0:
                    time.sleep(0.01)  # let the writers get going
                    assert backend.mark_lost(exec_id, epoch, failure=make_failure())
                    return backend.get_calls(exec_id)  # what the journal held right then
                for i in range(10_000):
                    call = make_call(exec_id, f"w{n}_{i}", seq=n * 10_000 + i)
                    try:
                        backend.save_call(exec_id, epoch, call)
                    except FencingError:
                        return i
                    saved[n].append(call)
                raise AssertionError("the writer was never fenced")

            outcomes = race(3, act)
            assert not any(isinstance(o, BaseException) for o in outcomes.values()), outcomes
            at_mark_lost = outcomes[0]
            final = backend.get_calls(exec_id)
            assert final == at_mark_lost
            assert sorted(final, key=lambda c: c.seq) == sorted(
                saved[1] + saved[2], key=lambda c: c.seq
            )
