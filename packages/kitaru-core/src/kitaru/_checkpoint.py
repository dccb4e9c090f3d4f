"""``@checkpoint``: identity, record-or-reuse of one call, retries, ``.submit/.map/.product``."""

from __future__ import annotations

import functools
import hashlib
import inspect
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from contextvars import copy_context
from typing import Any, Generic, ParamSpec, TypeVar, overload

from kitaru import _live, _logcapture
from kitaru._clock import utcnow
from kitaru._context import (
    CheckpointScope,
    FlowContext,
    _checkpoint_ctx,
    current_checkpoint,
    current_flow,
)
from kitaru._failures import failure_from
from kitaru._identity import sanitize
from kitaru._signals import Diverged, LeaseLost, _KitaruSignal, signal_in
from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    CallRecord,
    CallState,
    FencingError,
    Payload,
)
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruRuntimeError,
    KitaruUsageError,
)

P = ParamSpec("P")
R = TypeVar("R")

_RUNTIMES = {"inline", "isolated"}
_OUTSIDE = "Checkpoints can only run inside a @flow."
_NESTED = "Nested checkpoint calls are not supported: call checkpoints from the flow body."
_SUBMIT_OUTSIDE = "Concurrent checkpoint execution is only available inside a running @flow."


def _guard(message: str) -> FlowContext:
    if current_checkpoint() is not None:
        raise KitaruContextError(_NESTED)
    ctx = current_flow()
    if ctx is None:
        raise KitaruContextError(message)
    return ctx


class CheckpointFuture(Generic[R]):
    """The result of ``.submit()`` / ``.map()``: ``result()`` and ``load()`` give the value."""

    def __init__(self, future: Future[R], invocation_id: str) -> None:
        self._future = future
        self.invocation_id = invocation_id

    def result(self, timeout: float | None = None) -> R:
        return self._future.result(timeout)

    def load(self, timeout: float | None = None) -> R:
        return self._future.result(timeout)

    def wait(self, timeout: float | None = None) -> None:
        self._future.exception(timeout)

    def done(self) -> bool:
        return self._future.done()

    def running(self) -> bool:
        return self._future.running()

    def __repr__(self) -> str:
        state = "done" if self._future.done() else "pending"
        return f"<CheckpointFuture {self.invocation_id} {state}>"


def _resolve_futures(value: Any, parents: list[str]) -> Any:
    if isinstance(value, CheckpointFuture):
        parents.append(value.invocation_id)
        return value.result()
    if type(value) is list:
        return [_resolve_futures(v, parents) for v in value]
    if type(value) is tuple:
        return tuple(_resolve_futures(v, parents) for v in value)
    if type(value) is dict:
        return {k: _resolve_futures(v, parents) for k, v in value.items()}
    return value


def _code_fingerprint(func: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        code = getattr(func, "__code__", None)
        source = repr((code.co_code, code.co_consts)) if code is not None else repr(func)
    return hashlib.sha256(source.encode()).hexdigest()


class Checkpoint(Generic[P, R]):
    """A checkpoint definition. Call it in a flow body to get its (recorded) value."""

    def __init__(
        self,
        func: Callable[P, R],
        *,
        retries: int = 0,
        retry_delay: float = 0.0,
        backoff: float = 1.0,
        type: str | None = None,
        runtime: str | None = None,
        cache: bool | None = None,
        name: str | None = None,
        allows_waits: bool = False,
        sync_commit: bool = True,
    ) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise KitaruUsageError(f"Checkpoint retries must be an integer, got {retries!r}.")
        if retries < 0:
            raise KitaruUsageError("Checkpoint retries must be >= 0.")
        if not isinstance(retry_delay, int | float) or retry_delay < 0:
            raise KitaruUsageError(f"retry_delay must be a number >= 0, got {retry_delay!r}.")
        if not isinstance(backoff, int | float) or backoff < 1:
            raise KitaruUsageError(f"backoff must be a number >= 1, got {backoff!r}.")
        if type is not None and (not isinstance(type, str) or not type.strip()):
            raise KitaruUsageError(f"Checkpoint type must be a non-empty string, got {type!r}.")
        if runtime is not None:
            if not isinstance(runtime, str) or runtime.strip().lower() not in _RUNTIMES:
                raise KitaruUsageError(
                    f"Unsupported checkpoint runtime {runtime!r}. Expected 'inline' or 'isolated'."
                )
            runtime = runtime.strip().lower()
        if cache is not None and not isinstance(cache, bool):
            raise KitaruUsageError(f"cache must be True, False or None, got {cache!r}.")
        self.func = func
        self.name = sanitize(name or func.__name__, kind="checkpoint")
        self.allows_waits = allows_waits
        #: False: the completed call's commit does not wait for the disk (adapter calls that
        #: can be recorded again after a power loss; see ``durable.run_as_checkpoint``).
        self.sync_commit = sync_commit
        self.retries = retries
        self.retry_delay = float(retry_delay)
        self.backoff = float(backoff)
        self.checkpoint_type = type.strip() if type else None
        self.runtime = runtime
        self.cache = cache
        self._signature = inspect.signature(func)
        self._fingerprint: str | None = None
        functools.update_wrapper(self, func)

    # -- public calling forms ------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        ctx = _guard(_OUTSIDE)
        explicit_id = kwargs.pop("id", None)
        after = kwargs.pop("after", None)
        invocation_id, seq = _assign(ctx, self.name, explicit_id)
        parents = _wait_after(after)
        args2 = _resolve_futures(args, parents)
        kwargs2 = _resolve_futures(kwargs, parents)
        return _execute(self, ctx, invocation_id, seq, args2, kwargs2, parents)

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> CheckpointFuture[R]:
        ctx = _guard(_SUBMIT_OUTSIDE)
        explicit_id = kwargs.pop("id", None)
        after = kwargs.pop("after", None)
        return self._submit(ctx, explicit_id, after, args, dict(kwargs))

    def map(self, *args: Any, **kwargs: Any) -> list[CheckpointFuture[R]]:
        ctx = _guard(_SUBMIT_OUTSIDE)
        after = kwargs.pop("after", None)
        return [
            self._submit(ctx, None, after, a, k) for a, k in _fan_out(args, kwargs, product=False)
        ]

    def product(self, *args: Any, **kwargs: Any) -> list[CheckpointFuture[R]]:
        ctx = _guard(_SUBMIT_OUTSIDE)
        after = kwargs.pop("after", None)
        return [
            self._submit(ctx, None, after, a, k) for a, k in _fan_out(args, kwargs, product=True)
        ]

    def _submit(
        self,
        ctx: FlowContext,
        explicit_id: Any,
        after: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> CheckpointFuture[R]:
        invocation_id, seq = _assign(ctx, self.name, explicit_id)

        def task() -> R:
            parents = _wait_after(after)
            args2 = _resolve_futures(args, parents)
            kwargs2 = _resolve_futures(kwargs, parents)
            return _execute(self, ctx, invocation_id, seq, args2, kwargs2, parents)

        future = ctx.executor().submit(copy_context().run, task)
        with ctx.lock:
            ctx.pending_futures.append(future)
        return CheckpointFuture(future, invocation_id)

    # -- helpers ---------------------------------------------------------------------------

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = _code_fingerprint(self.func)
        return self._fingerprint

    def __repr__(self) -> str:
        return f"<kitaru.checkpoint {self.name}>"


def _wait_after(after: Any) -> list[str]:
    parents: list[str] = []
    if after is None:
        return parents
    items = after if isinstance(after, list | tuple) else [after]
    for item in items:
        if not isinstance(item, CheckpointFuture):
            raise KitaruUsageError("after= takes checkpoint futures (from .submit()/.map()).")
        item.wait()
        parents.append(item.invocation_id)
    return parents


def _is_mappable(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(
        value, str | bytes | bytearray | Mapping | CheckpointFuture
    )


def _fan_out(
    args: tuple[Any, ...], kwargs: dict[str, Any], *, product: bool
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    if "id" in kwargs:
        raise KitaruUsageError(".map()/.product() do not take id=; ids are numbered per call.")
    positions = [i for i, a in enumerate(args) if _is_mappable(a)]
    keys = [k for k, v in kwargs.items() if _is_mappable(v)]
    if not positions and not keys:
        raise KitaruUsageError(
            "No inputs to map over found: pass at least one list, tuple or other iterable."
        )
    columns = [list(args[i]) for i in positions] + [list(kwargs[k]) for k in keys]
    if product:
        rows = list(itertools.product(*columns))
    else:
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            raise KitaruUsageError(
                f".map() inputs have different lengths ({sorted(lengths)}); pass equal-length "
                "iterables or use .product()."
            )
        rows = list(zip(*columns, strict=True))
    out = []
    for row in rows:
        a = list(args)
        k = dict(kwargs)
        slots: list[int | str] = [*positions, *keys]
        for pos, value in zip(slots, row, strict=True):
            if isinstance(pos, int):
                a[pos] = value
            else:
                k[pos] = value
        out.append((tuple(a), k))
    return out


def _assign(ctx: FlowContext, name: str, explicit_id: Any) -> tuple[str, int]:
    """Give the next call its invocation id and sequence number, and check for divergence."""
    with ctx.lock:
        if explicit_id is not None:
            if not isinstance(explicit_id, str) or not explicit_id.strip():
                raise KitaruUsageError(
                    f"Checkpoint id= must be a non-empty string, got {explicit_id!r}."
                )
            invocation_id = explicit_id.strip()
            if invocation_id in ctx.live:
                raise KitaruUsageError(
                    f"Checkpoint id '{invocation_id}' is used twice in this execution; ids "
                    "given with id= must be unique."
                )
        else:
            count = ctx.name_counts.get(name, 0)
            while True:
                count += 1
                invocation_id = name if count == 1 else f"{name}_{count}"
                if invocation_id not in ctx.live:
                    break
            ctx.name_counts[name] = count
        seq = ctx.next_seq
        ctx.next_seq += 1
        ctx.live.append(invocation_id)
        # Only completed calls pin the sequence: a call that failed (or never finished) left
        # nothing later calls could depend on, so fixed code may call something else there.
        recorded = ctx.recorded_by_seq.get(seq)
        if recorded is not None and recorded.state is not CallState.COMPLETED:
            recorded = None
        earlier = ctx.recorded.get(invocation_id)
        moved = recorded is None and earlier is not None and earlier.state is CallState.COMPLETED
        if (recorded is not None and recorded.invocation_id != invocation_id) or moved:
            raise Diverged(_divergence_message(ctx, seq, invocation_id))
        return invocation_id, seq


def _divergence_message(ctx: FlowContext, seq: int, live_id: str) -> str:
    recorded = [c.invocation_id for _, c in sorted(ctx.recorded_by_seq.items())]
    here = ctx.recorded_by_seq.get(seq)
    if here is not None and here.state is CallState.COMPLETED:
        head = (
            f"Checkpoint sequence diverged at position {seq + 1}: the journal recorded "
            f"'{here.invocation_id}' there, but the code now calls '{live_id}'."
        )
    else:
        head = (
            f"Checkpoint sequence diverged at position {seq + 1}: '{live_id}' was recorded at "
            f"position {ctx.recorded[live_id].seq + 1}."
        )
    return (
        f"{head}\n  recorded: {', '.join(recorded)}\n  live:     {', '.join(ctx.live)}\n"
        "Checkpoints before the restart point must not change while an execution is in "
        "flight. Restore the previous code to continue it, or start a new execution "
        f"(`kitaru executions replay {ctx.exec_id} --from <checkpoint>`)."
    )


def _canonical_args(
    cp: Checkpoint[Any, Any], ctx: FlowContext, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str | None:
    try:
        bound = cp._signature.bind(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    digest = hashlib.sha256()
    for key, value in bound.arguments.items():
        try:
            name, type_ref, data = ctx.runtime.serializers.dumps(value)
        except Exception:
            return None
        if name == "pickle":  # pickles are not canonical: never a cache key
            return None
        if name == "json":
            data = json.dumps(json.loads(data), sort_keys=True).encode()
        digest.update(json.dumps([key, name, type_ref]).encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _cache_key(
    cp: Checkpoint[Any, Any],
    ctx: FlowContext,
    invocation_id: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> str | None:
    enabled = cp.cache if cp.cache is not None else ctx.cache
    if not enabled or ctx.replay_plan:
        return None
    canonical = _canonical_args(cp, ctx, args, kwargs)
    if canonical is None:
        return None
    raw = json.dumps([ctx.execution.flow_name, invocation_id, cp.fingerprint(), canonical])
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_boundary(ctx: FlowContext) -> None:
    from kitaru._signals import Cancelled

    if ctx.lease_lost.is_set():
        raise LeaseLost()
    if ctx.cancel_requested.is_set():
        raise Cancelled("Cancelled by request.")


def _commit(
    ctx: FlowContext,
    call: CallRecord,
    attempts: list[AttemptRecord],
    artifact: ArtifactRecord | None,
    saved: list[ArtifactRecord] | None = None,
    *,
    sync: bool = True,
) -> None:
    from kitaru._signals import Cancelled

    try:
        cancel = ctx.runtime.backend.save_call(
            ctx.exec_id,
            ctx.epoch,
            call,
            attempts=attempts,
            artifacts=([artifact] if artifact is not None else []) + list(saved or []),
            sync=sync,
        )
    except FencingError:
        ctx.lease_lost.set()
        raise LeaseLost() from None
    ctx.remember(call)
    ctx.runtime.plugin_manager.hook.kitaru_checkpoint_recorded(call=call, artifact=artifact)
    if cancel:
        ctx.cancel_requested.set()
        if call.state is CallState.COMPLETED:
            raise Cancelled("Cancelled by request.")


def _output_artifact(
    ctx: FlowContext, invocation_id: str, payload: Payload, save_type: str = "step_output"
) -> ArtifactRecord:
    return ArtifactRecord(
        artifact_id=str(uuid.uuid4()),
        exec_id=ctx.exec_id,
        name="output",
        payload=payload,
        save_type=save_type,
        invocation_id=invocation_id,
        created_at=utcnow(),
    )


def _reuse(
    cp: Checkpoint[Any, Any],
    ctx: FlowContext,
    invocation_id: str,
    seq: int,
    *,
    payload: Payload,
    cached_from: str | None,
    overridden: bool,
    parents: list[str],
) -> Any:
    value = ctx.runtime.decode(payload)
    now = utcnow()
    artifact = _output_artifact(ctx, invocation_id, payload)
    call = CallRecord(
        exec_id=ctx.exec_id,
        invocation_id=invocation_id,
        seq=seq,
        name=cp.name,
        call_id=str(uuid.uuid4()),
        checkpoint_type=cp.checkpoint_type,
        state=CallState.COMPLETED,
        started_at=now,
        ended_at=now,
        output_artifact_id=artifact.artifact_id,
        cached_from=cached_from,
        overridden=overridden,
        parent_invocation_ids=tuple(parents),
    )
    _commit(ctx, call, [], artifact)
    return value


def _execute(
    cp: Checkpoint[Any, R],
    ctx: FlowContext,
    invocation_id: str,
    seq: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    parents: list[str],
) -> R:
    _check_boundary(ctx)
    runtime = ctx.runtime
    recorded = ctx.recorded.get(invocation_id)
    if recorded is not None and recorded.state is CallState.COMPLETED:
        if recorded.output_artifact_id is None:
            raise KitaruRuntimeError(
                f"Checkpoint '{invocation_id}' is recorded as completed but has no output."
            )
        artifact = runtime.backend.get_artifact(recorded.output_artifact_id)
        return runtime.decode(artifact.payload)  # type: ignore[no-any-return]

    backend = runtime.backend
    plan = ctx.replay_plan
    if plan:
        from kitaru._replay import override_value, payload_from_json

        source_exec = plan.get("source_exec_id")
        if invocation_id in plan.get("overrides", {}):
            given = runtime.decode(payload_from_json(plan["overrides"][invocation_id]))
            return _reuse(  # type: ignore[no-any-return]
                cp,
                ctx,
                invocation_id,
                seq,
                payload=runtime.encode(override_value(cp.func, invocation_id, given)),
                cached_from=None,
                overridden=True,
                parents=parents,
            )
        if invocation_id in plan.get("reuse", {}):
            return _reuse(  # type: ignore[no-any-return]
                cp,
                ctx,
                invocation_id,
                seq,
                payload=backend.get_artifact(plan["reuse"][invocation_id]).payload,
                cached_from=f"{source_exec}/{invocation_id}",
                overridden=False,
                parents=parents,
            )

    cache_key = _cache_key(cp, ctx, invocation_id, args, kwargs)
    if cache_key is not None:
        hit = runtime.backend.find_cached_call(cache_key)
        if hit is not None and hit.output_artifact_id is not None:
            try:
                return _reuse(  # type: ignore[no-any-return]
                    cp,
                    ctx,
                    invocation_id,
                    seq,
                    payload=backend.get_artifact(hit.output_artifact_id).payload,
                    cached_from=f"{hit.exec_id}/{hit.invocation_id}",
                    overridden=False,
                    parents=parents,
                )
            except (KitaruRuntimeError, LookupError):
                pass  # the cached output is unreadable here: run live instead
    return _run_live(cp, ctx, invocation_id, seq, args, kwargs, parents, cache_key)


def _run_live(
    cp: Checkpoint[Any, R],
    ctx: FlowContext,
    invocation_id: str,
    seq: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    parents: list[str],
    cache_key: str | None,
) -> R:
    backend = ctx.runtime.backend
    attempts: list[AttemptRecord] = []
    metadata: dict[str, Any] = {}
    saved: list[ArtifactRecord] = []  # save()d by any attempt, journaled with the call
    # A call left `running` by an earlier segment was suspended at a wait inside it (a lost
    # runner's calls are failed when it is reaped): this run continues that attempt.
    recorded = ctx.recorded.get(invocation_id)
    resumed = recorded if recorded is not None and recorded.state is CallState.RUNNING else None
    first_started = resumed.started_at if resumed is not None else utcnow()
    total = cp.retries + 1
    for number in range(1, total + 1):
        call_id = resumed.call_id if resumed is not None and number == 1 else str(uuid.uuid4())
        started = first_started if number == 1 else utcnow()
        scope = CheckpointScope(
            flow=ctx,
            name=cp.name,
            invocation_id=invocation_id,
            call_id=call_id,
            metadata=metadata,
            allows_waits=cp.allows_waits,
            pending_artifacts=saved,
        )
        sink = _logcapture.LogSink(
            backend,
            ctx.exec_id,
            invocation_id=invocation_id,
            source="step",
            exporter=ctx.log_exporter,
        )
        running = _live.track_call(
            _live.RunningCall(
                ctx,
                {
                    "invocation_id": invocation_id,
                    "seq": seq,
                    "name": cp.name,
                    "checkpoint_type": cp.checkpoint_type,
                    "started_at": first_started,
                    "cache_key": cache_key,
                    "parent_invocation_ids": tuple(parents),
                },
                attempt_id=call_id,
                number=number,
                started_at=started,
                attempts=attempts,
                metadata=metadata,
            )
        )
        scope.running = running
        cp_token = _checkpoint_ctx.set(scope)
        sink_token = _logcapture.set_sink(sink)
        failure = None
        error: BaseException | None = None
        try:
            value = cp.func(*args, **kwargs)
        except _KitaruSignal:
            running.keep()
            raise
        except BaseExceptionGroup as group:
            signal = signal_in(group)
            if signal is not None:
                running.keep()
                raise signal from None
            if not isinstance(group, Exception):
                raise
            error = group
            failure = failure_from(group, origin=FailureOrigin.USER_CODE)
        except Exception as exc:
            error = exc
            failure = failure_from(exc, origin=FailureOrigin.USER_CODE)
        finally:
            running.close()  # before the final commit, which then updates a `running` row
            _checkpoint_ctx.reset(cp_token)
            _logcapture.reset_sink(sink_token)
            sink.flush()
        payload = None
        if error is None:
            try:
                payload = ctx.runtime.encode(value)
            except Exception as exc:
                error = exc
                failure = failure_from(exc, origin=FailureOrigin.RUNTIME)
        ended = utcnow()
        if error is None and payload is not None:
            attempts.append(
                AttemptRecord(
                    exec_id=ctx.exec_id,
                    attempt_id=call_id,
                    invocation_id=invocation_id,
                    number=number,
                    state=CallState.COMPLETED,
                    started_at=started,
                    ended_at=ended,
                )
            )
            artifact = _output_artifact(ctx, invocation_id, payload)
            call = CallRecord(
                exec_id=ctx.exec_id,
                invocation_id=invocation_id,
                seq=seq,
                name=cp.name,
                call_id=call_id,
                checkpoint_type=cp.checkpoint_type,
                state=CallState.COMPLETED,
                started_at=first_started,
                ended_at=ended,
                output_artifact_id=artifact.artifact_id,
                # A call that asked a human (a wait inside) is never served to another
                # execution from the cache: that answer was given for this one.
                cache_key=None if scope.asked_wait else cache_key,
                metadata=dict(metadata),
                parent_invocation_ids=tuple(parents),
            )
            _commit(ctx, call, attempts, artifact, saved, sync=cp.sync_commit)
            return value
        assert error is not None and failure is not None
        attempts.append(
            AttemptRecord(
                exec_id=ctx.exec_id,
                attempt_id=call_id,
                invocation_id=invocation_id,
                number=number,
                state=CallState.FAILED,
                started_at=started,
                ended_at=ended,
                failure=failure,
            )
        )
        retryable = failure.origin is FailureOrigin.USER_CODE and number < total
        if retryable:
            _check_boundary(ctx)
            time.sleep(cp.retry_delay * (cp.backoff ** (number - 1)))
            continue
        call = CallRecord(
            exec_id=ctx.exec_id,
            invocation_id=invocation_id,
            seq=seq,
            name=cp.name,
            call_id=call_id,
            checkpoint_type=cp.checkpoint_type,
            state=CallState.FAILED,
            started_at=first_started,
            ended_at=ended,
            failure=failure,
            metadata=dict(metadata),
            parent_invocation_ids=tuple(parents),
        )
        _commit(ctx, call, attempts, None, saved)
        raise error
    raise AssertionError("unreachable")


@overload
def checkpoint(func: Callable[P, R], /) -> Checkpoint[P, R]: ...


@overload
def checkpoint(
    func: None = None,
    /,
    *,
    retries: int = 0,
    retry_delay: float = 0.0,
    backoff: float = 1.0,
    type: str | None = None,
    runtime: str | None = None,
    cache: bool | None = None,
) -> Callable[[Callable[P, R]], Checkpoint[P, R]]: ...


def checkpoint(
    func: Callable[P, R] | None = None,
    /,
    *,
    retries: int = 0,
    retry_delay: float = 0.0,
    backoff: float = 1.0,
    type: str | None = None,
    runtime: str | None = None,
    cache: bool | None = None,
) -> Checkpoint[P, R] | Callable[[Callable[P, R]], Checkpoint[P, R]]:
    """Mark a function as a checkpoint: its return value is journaled, and a restarted
    execution gets the recorded value back instead of running it again.

    Args:
        retries: re-run the body up to this many more times when it raises.
        retry_delay: seconds before the first retry.
        backoff: multiply the delay by this after each retry.
        type: a free-form label (``"llm_call"``, ``"tool_call"``, ...).
        runtime: ``"inline"`` or ``"isolated"`` (the local stack runs inline).
        cache: reuse outputs of earlier executions for identical calls (default: the flow's).
    """

    def wrap(f: Callable[P, R]) -> Checkpoint[P, R]:
        if isinstance(f, Checkpoint):
            raise KitaruUsageError("This function is already a checkpoint.")
        if not callable(f):
            raise KitaruUsageError(f"@checkpoint needs a function, got {f!r}.")
        if inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f):
            raise KitaruUsageError(
                f"@checkpoint does not support async functions yet ('{f.__name__}'). Use a "
                "regular function and run async code inside it with asyncio.run(...)."
            )
        return Checkpoint(
            f,
            retries=retries,
            retry_delay=retry_delay,
            backoff=backoff,
            type=type,
            runtime=runtime,
            cache=cache,
        )

    if func is not None:
        return wrap(func)
    return wrap
