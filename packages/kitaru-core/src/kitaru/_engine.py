"""One *segment* of an execution: take the lease, run the flow body from the top, and end as
completed, failed, cancelled or waiting. Heartbeats keep the lease while it runs."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from kitaru import _liveness, _logcapture
from kitaru._clock import utcnow
from kitaru._context import FlowContext, _flow_ctx
from kitaru._failures import failure_from
from kitaru._signals import Cancelled, Diverged, LeaseLost, Suspend, signal_in
from kitaru.backend import (
    ArtifactRecord,
    ExecutionState,
    FailureRecord,
    FencingError,
    LeaseConflictError,
)
from kitaru.errors import FailureOrigin

if TYPE_CHECKING:
    from kitaru._flow import Flow
    from kitaru._runtime import Runtime


class _Heartbeat(threading.Thread):
    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(name=f"kitaru-heartbeat-{ctx.exec_id[:8]}", daemon=True)
        self.ctx = ctx
        self.stop_event = threading.Event()

    def run(self) -> None:
        runtime = self.ctx.runtime
        interval = max(0.2, runtime.lease_seconds / 3)
        while not self.stop_event.wait(interval):
            try:
                if runtime.backend.heartbeat(
                    self.ctx.exec_id, self.ctx.epoch, lease_seconds=runtime.lease_seconds
                ):
                    self.ctx.cancel_requested.set()
            except FencingError:
                self.ctx.lease_lost.set()
                return
            except Exception:  # a transient journal error: try again next beat
                continue


def run_segment(runtime: Runtime, exec_id: str, flow: Flow[..., Any]) -> ExecutionState | None:
    """Run one segment. Returns the state it ended in, or None if another runner had it."""
    backend = runtime.backend
    owner = _liveness.new_owner()
    try:
        try:
            record = backend.acquire_lease(
                exec_id,
                owner=owner,
                host=_liveness.HOST,
                pid=os.getpid(),
                lease_seconds=runtime.lease_seconds,
            )
        except LeaseConflictError:
            return None
        spec = record.spec.get("resolved_execution", {})
        ctx = FlowContext(
            runtime=runtime,
            execution=record,
            calls=backend.get_calls(exec_id),
            waits=backend.get_waits(exec_id),
            cache=bool(spec.get("cache", True)),
            default_retries=0,
        )
        heartbeat = _Heartbeat(ctx)
        heartbeat.start()
        runtime.plugin_manager.hook.kitaru_execution_started(execution=record)
        try:
            state = _drive(ctx, flow, retries=int(spec.get("retries") or 0))
        finally:
            heartbeat.stop_event.set()
            ctx.shutdown()
        if state is not None:
            runtime.plugin_manager.hook.kitaru_execution_finished(
                execution=backend.get_execution(exec_id)
            )
        return state
    finally:
        _liveness.drop_owner(owner)


def _inputs(ctx: FlowContext) -> tuple[tuple[Any, ...], dict[str, Any]]:
    payload = ctx.execution.inputs
    if payload is None:
        return (), {}
    data = ctx.runtime.decode(payload)
    return tuple(data.get("args", ())), dict(data.get("kwargs", {}))


def _drive(ctx: FlowContext, flow: Flow[..., Any], *, retries: int) -> ExecutionState | None:
    backend = ctx.runtime.backend
    _logcapture.install()
    runner_sink = _logcapture.LogSink(
        backend, ctx.exec_id, invocation_id=None, source="runner", exporter=ctx.log_exporter
    )
    round_number = 0
    while True:
        round_number += 1
        ctx.reset_round()
        flow_token = _flow_ctx.set(ctx)
        sink_token = _logcapture.set_sink(runner_sink)
        try:
            try:
                args, kwargs = _inputs(ctx)
                result = flow.func(*args, **kwargs)
                _await_futures(ctx)
            except BaseExceptionGroup as group:
                signal = signal_in(group)
                if signal is not None:
                    raise signal from None
                raise
            finally:
                _flow_ctx.reset(flow_token)
                _logcapture.reset_sink(sink_token)
                runner_sink.flush()
            return _finish_completed(ctx, result)
        except Suspend:
            _drain(ctx)
            try:
                # A cancel that arrived while the runner listened must not be lost.
                if ctx.cancel_requested.is_set() or backend.heartbeat(
                    ctx.exec_id, ctx.epoch, lease_seconds=ctx.runtime.lease_seconds
                ):
                    return _finish(
                        ctx, ExecutionState.CANCELLED, status_reason="Cancelled by request."
                    )
                if backend.suspend(ctx.exec_id, ctx.epoch):
                    return ExecutionState.WAITING
            except FencingError:
                return None
            continue  # input arrived just now: run again from the top
        except Cancelled as signal:
            _drain(ctx)
            return _finish(ctx, ExecutionState.CANCELLED, status_reason=signal.reason)
        except LeaseLost:
            _drain(ctx)
            return None
        except Diverged as signal:
            _drain(ctx)
            failure = FailureRecord(
                message=signal.message,
                exception_type="kitaru.errors.KitaruDivergenceError",
                origin=FailureOrigin.DIVERGENCE,
            )
            return _finish(
                ctx, ExecutionState.FAILED, failure=failure, status_reason=signal.message
            )
        except Exception as exc:
            _drain(ctx)
            failure = failure_from(exc)
            if failure.origin is FailureOrigin.USER_CODE and round_number <= retries:
                _journal_round(ctx, round_number, failure)
                time.sleep(min(0.5 * round_number, 5.0))
                if ctx.cancel_requested.is_set():
                    return _finish(
                        ctx, ExecutionState.CANCELLED, status_reason="Cancelled by request."
                    )
                continue
            return _finish(
                ctx, ExecutionState.FAILED, failure=failure, status_reason=failure.message
            )


def _await_futures(ctx: FlowContext) -> None:
    """Futures the flow body never awaited are awaited before the flow ends."""
    while True:
        with ctx.lock:
            pending = [f for f in ctx.pending_futures if not f.done()]
            errors = [f for f in ctx.pending_futures if f.done() and f.exception() is not None]
        if errors:
            raise errors[0].exception()  # type: ignore[misc]
        if not pending:
            with ctx.lock:
                ctx.pending_futures.clear()
            return
        for future in pending:
            future.exception()


def _drain(ctx: FlowContext) -> None:
    """Let in-flight submitted checkpoints settle before the segment ends."""
    with ctx.lock:
        futures = list(ctx.pending_futures)
        ctx.pending_futures.clear()
    for future in futures:
        future.cancel()
    for future in futures:
        if not future.cancelled():
            # The flow's own outcome is what counts; a settled future's error is journaled.
            with contextlib.suppress(BaseException):
                future.exception()


def _journal_round(ctx: FlowContext, number: int, failure: FailureRecord) -> None:
    from kitaru.backend import AttemptRecord, CallState

    now = utcnow()
    attempt = AttemptRecord(
        exec_id=ctx.exec_id,
        attempt_id=str(uuid.uuid4()),
        invocation_id=None,
        number=number,
        state=CallState.FAILED,
        started_at=now,
        ended_at=now,
        failure=failure,
    )
    try:
        ctx.runtime.backend.save_attempt(ctx.exec_id, ctx.epoch, attempt)
    except FencingError:
        raise LeaseLost() from None


def _finish_completed(ctx: FlowContext, result: Any) -> ExecutionState | None:
    try:
        payload = ctx.runtime.encode(result)
    except Exception as exc:
        return _finish(
            ctx,
            ExecutionState.FAILED,
            failure=failure_from(exc, origin=FailureOrigin.RUNTIME),
            status_reason=f"The flow's return value cannot be stored: {exc}",
        )
    artifact = ArtifactRecord(
        artifact_id=str(uuid.uuid4()),
        exec_id=ctx.exec_id,
        name="result",
        payload=payload,
        save_type="flow_output",
        created_at=utcnow(),
    )
    try:
        ctx.runtime.backend.put_artifact(ctx.exec_id, ctx.epoch, artifact)
    except FencingError:
        return None
    return _finish(ctx, ExecutionState.COMPLETED, result_artifact_id=artifact.artifact_id)


def _finish(
    ctx: FlowContext,
    state: ExecutionState,
    *,
    failure: FailureRecord | None = None,
    status_reason: str | None = None,
    result_artifact_id: str | None = None,
) -> ExecutionState | None:
    try:
        ctx.runtime.backend.finish(
            ctx.exec_id,
            ctx.epoch,
            state=state,
            failure=failure,
            status_reason=status_reason,
            result_artifact_id=result_artifact_id,
        )
    except FencingError:
        return None
    return state
