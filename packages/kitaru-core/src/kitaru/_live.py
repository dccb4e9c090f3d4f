"""Live progress: one daemon thread per process (started on first need) that

* journals the buffered lines of active log sinks (checkpoints, flow bodies) every
  :data:`FLUSH_INTERVAL` seconds, so ``kitaru executions logs --follow`` shows a line about a
  second after it was printed and a killed process loses at most the last interval, and
* journals a checkpoint attempt that has run for :data:`RUNNING_AFTER` seconds as a
  ``running`` call and attempt (fenced by the segment's epoch), so ``executions get`` shows it
  and a killed attempt stays in the call's history.

The run itself only registers work here: a checkpoint attempt pays a few uncontended lock
round trips (about 2 µs), never a journal write, and does not wake the thread; a sink
registers once each time it goes from empty to buffered. The thread sleeps while nothing is
registered. Its writes never raise into a run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from kitaru.backend import AttemptRecord, CallRecord, CallState, FencingError

if TYPE_CHECKING:
    from datetime import datetime

    from kitaru._context import FlowContext

__all__ = ["FLUSH_INTERVAL", "RUNNING_AFTER", "RunningCall", "schedule_flush", "track_call"]

#: Seconds between background flushes of a sink's buffered lines.
FLUSH_INTERVAL = 0.5
#: A checkpoint attempt running this long is journaled as ``running``.
RUNNING_AFTER = 0.3


class _Flushable(Protocol):
    def live_flush(self) -> bool:
        """Journal the complete buffered lines; return whether lines are still buffered."""


class RunningCall:
    """One checkpoint attempt in progress; journaled as ``running`` once it is due."""

    __slots__ = (
        "_closed",
        "_written",
        "attempt_id",
        "attempts",
        "call",
        "ctx",
        "due",
        "lock",
        "metadata",
        "number",
        "started_at",
    )

    def __init__(
        self,
        ctx: FlowContext,
        call: Mapping[str, Any],
        *,
        attempt_id: str,
        number: int,
        started_at: datetime,
        attempts: Sequence[AttemptRecord],
        metadata: Mapping[str, Any],
    ) -> None:
        self.ctx = ctx
        self.call = call  # the CallRecord fields; built only if it is ever written
        self.attempt_id = attempt_id
        self.number = number
        self.started_at = started_at
        self.attempts = attempts  # earlier attempts of this call (appended to after close)
        self.metadata = metadata  # log() values so far (the run keeps adding to it)
        self.lock = threading.Lock()
        self.due = time.monotonic() + RUNNING_AFTER
        self._closed = False
        self._written: CallRecord | None = None

    def write(self) -> None:
        """Journal the call and this attempt as ``running`` (unless the attempt has ended)."""
        with self.lock:
            if self._closed:
                return
            ctx = self.ctx
            try:
                metadata = dict(self.metadata)
            except RuntimeError:  # changed while copied: the final commit has it anyway
                metadata = {}
            running = AttemptRecord(
                exec_id=ctx.exec_id,
                attempt_id=self.attempt_id,
                invocation_id=self.call["invocation_id"],
                number=self.number,
                state=CallState.RUNNING,
                started_at=self.started_at,
            )
            call = CallRecord(
                **self.call,
                exec_id=ctx.exec_id,
                call_id=self.attempt_id,
                state=CallState.RUNNING,
                metadata=metadata,
            )
            try:
                cancel = ctx.runtime.backend.save_call(
                    ctx.exec_id, ctx.epoch, call, attempts=[*self.attempts, running]
                )
            except FencingError:
                ctx.lease_lost.set()
                return
            except Exception as exc:  # progress must never break a run
                _warn(f"could not journal running checkpoint '{call.invocation_id}': {exc}")
                return
            self._written = call
            if cancel:
                ctx.cancel_requested.set()

    def close(self) -> CallRecord | None:
        """The attempt ended: never write it as running from now on. Returns the running call
        it journaled, if any (the final commit then updates its rows). Waits for a write in
        progress."""
        if not self._closed:
            with self.lock:
                self._closed = True
            with _cond:
                _calls.pop(id(self), None)
        return self._written

    def keep(self) -> None:
        """The attempt stops without a final commit (a signal: suspended at a wait inside,
        cancelled, ...): it is journaled as running now, however short it ran, with the
        metadata logged so far (so ``executions get`` shows the suspended call, and the
        artifacts it saved belong to a call), and the segment remembers it, so a rerun of the
        flow body continues the same attempt."""
        self.write()
        written = self.close()
        if written is not None:
            self.ctx.remember(written)


def _warn(message: str) -> None:
    if sys.__stderr__ is not None:
        sys.__stderr__.write(f"kitaru: {message}\n")


_cond = threading.Condition(threading.Lock())
_sinks: dict[int, tuple[float, _Flushable]] = {}
_calls: dict[int, RunningCall] = {}
_thread: threading.Thread | None = None
#: When the thread wakes next (``inf``: it sleeps until notified). New work that is due later
#: needs no notify: the hot path never wakes the thread in a run of fast checkpoints.
_wake_at = float("inf")
_forks_handled = False


def _ensure_thread() -> bool:
    """Start the thread (under ``_cond``) unless it runs; whether it runs."""
    global _thread, _forks_handled
    if _thread is not None and _thread.is_alive():
        return True
    if not _forks_handled:
        os.register_at_fork(after_in_child=_after_fork)
        _forks_handled = True
    thread = threading.Thread(target=_loop, name="kitaru-live", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # interpreter shutting down: the final flushes still run
        return False
    _thread = thread
    return True


def _after_fork() -> None:
    """A forked child has no thread and must not inherit its parent's work or lock."""
    global _cond, _thread, _wake_at
    _cond = threading.Condition(threading.Lock())
    _sinks.clear()
    _calls.clear()
    _thread = None
    _wake_at = float("inf")


def track_call(entry: RunningCall) -> RunningCall:
    """Register a checkpoint attempt that just started; :meth:`RunningCall.close` it when the
    attempt ends, before its final commit."""
    with _cond:
        _calls[id(entry)] = entry
        if entry.due < _wake_at:
            _wake(entry.due)
    return entry


def schedule_flush(sink: _Flushable) -> None:
    """Flush ``sink`` in the background within :data:`FLUSH_INTERVAL` seconds."""
    due = time.monotonic() + FLUSH_INTERVAL
    with _cond:
        _sinks.setdefault(id(sink), (due, sink))
        if due < _wake_at:
            _wake(due)


def _wake(due: float) -> None:
    """Have the thread wake by ``due`` (caller holds ``_cond``)."""
    global _wake_at
    if _ensure_thread():
        _wake_at = due
        _cond.notify()


def _loop() -> None:
    global _wake_at
    lingered = False
    while True:
        with _cond:
            now = time.monotonic()
            if not _calls and not _sinks:
                # Nothing to do. Between two fast checkpoints there is nothing either: keep a
                # timed wake-up for one more round, so they never need to notify.
                if lingered:
                    _wake_at = float("inf")
                    _cond.wait()
                else:
                    _wake_at = now + RUNNING_AFTER
                    _cond.wait(RUNNING_AFTER)
                lingered = not lingered
                continue
            lingered = False
            # Both dicts are in registration order, and each delay is fixed: the first entry
            # of each is the earliest due.
            next_due = next(iter(_calls.values())).due if _calls else float("inf")
            if _sinks:
                next_due = min(next_due, next(iter(_sinks.values()))[0])
            if next_due > now:
                _wake_at = next_due
                _cond.wait(next_due - now)
                continue
            sinks = [s for due, s in _sinks.values() if due <= now]
            for sink in sinks:
                del _sinks[id(sink)]
            calls = [c for c in _calls.values() if c.due <= now]
        for call in calls:
            call.write()
            with _cond:
                _calls.pop(id(call), None)
        for sink in sinks:
            try:
                pending = sink.live_flush()
            except Exception as exc:  # logs must never break a run
                _warn(f"could not flush log lines: {exc}")
                continue
            if pending:
                schedule_flush(sink)
