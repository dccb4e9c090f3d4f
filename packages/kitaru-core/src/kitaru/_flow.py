"""``@flow``: the durable boundary. ``.run()`` returns a :class:`FlowHandle` at once."""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, overload

from kitaru import _config, _liveness
from kitaru._clock import utcnow
from kitaru._identity import sanitize
from kitaru._runtime import Runtime, current_runtime
from kitaru._source import source_of
from kitaru._stacks import validate_stack_name
from kitaru._status import ExecutionStatus, public_status
from kitaru.backend import ExecutionRecord, ExecutionState, WaitState
from kitaru.errors import (
    FailureOrigin,
    KitaruDivergenceError,
    KitaruExecutionError,
    KitaruFeatureNotAvailableError,
    KitaruStateError,
    KitaruUsageError,
    KitaruUserCodeError,
)

P = ParamSpec("P")
R = TypeVar("R")

_SHADOWED = ("stack", "image", "cache", "retries")


def _layer(*, stack: Any, image: Any, cache: Any, retries: Any) -> _config.ExecutionSettings:
    return _config.ExecutionSettings(
        stack=_config.validate_stack(stack) if stack is not None else None,
        cache=_config.validate_cache(cache) if cache is not None else None,
        retries=_config.validate_retries(retries, what="Flow") if retries is not None else None,
        image=_config._image_mapping(image) if image is not None else None,
    )


def _redact(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    out = dict(image)
    env = out.get("environment")
    if isinstance(env, Mapping):
        out["environment"] = {k: "***" if _secret_looking(k) else v for k, v in env.items()}
    return out


def _secret_looking(name: str) -> bool:
    upper = name.upper()
    return any(w in upper for w in ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "AUTH"))


DEPLOYMENTS_NOT_AVAILABLE = (
    "Deployments (flow.deploy(), flow.invoke(), KitaruClient().deployments) are not "
    "available yet in this version of Kitaru. Start executions with flow.run(...) or "
    "`kitaru run`."
)


class FlowHandle:
    """A submitted execution. ``status`` reads the journal; ``wait()`` blocks until it ends."""

    def __init__(self, exec_id: str, *, runtime: Runtime | None = None) -> None:
        self.exec_id = exec_id
        self._runtime = runtime or current_runtime()

    def _record(self) -> ExecutionRecord:
        backend = self._runtime.backend
        return _liveness.reap(backend, backend.get_execution(self.exec_id))

    @property
    def status(self) -> ExecutionStatus:
        record = self._record()
        pending = False
        if record.state in (ExecutionState.RUNNING, ExecutionState.PENDING):
            pending = any(
                w.state is WaitState.PENDING for w in self._runtime.backend.get_waits(self.exec_id)
            )
        return public_status(record.state, has_pending_wait=pending)

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the execution finishes (through ``waiting``) and return its result.

        Raises ``TimeoutError`` after ``timeout`` seconds (the execution is untouched) and a
        :class:`~kitaru.errors.KitaruExecutionError` subclass if it failed or was cancelled.
        """
        if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
            raise KitaruUsageError(f"timeout must be a number >= 0 or None, got {timeout!r}.")
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.01
        while True:
            record = self._record()
            if record.state.is_finished:
                return self._outcome(record)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Execution {self.exec_id} did not finish within {timeout} s "
                    f"(it is {self.status.value})."
                )
            sleep = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
            time.sleep(sleep)
            delay = min(delay * 1.5, 0.25)

    def get(self) -> Any:
        """The result if the execution finished; never blocks."""
        record = self._record()
        if not record.state.is_finished:
            status = self.status  # `waiting` while a wait is pending, as everywhere else
            raise KitaruStateError(
                f"Execution {self.exec_id} has not finished (status: {status.value}).",
                exec_id=self.exec_id,
                status=status,
            )
        return self._outcome(record)

    def _outcome(self, record: ExecutionRecord) -> Any:
        if record.state is ExecutionState.COMPLETED:
            if record.result_artifact_id is None:
                return None
            artifact = self._runtime.backend.get_artifact(record.result_artifact_id)
            return self._runtime.decode(artifact.payload)
        raise execution_error(record)

    def __repr__(self) -> str:
        return f"<FlowHandle {self.exec_id}>"


def execution_error(record: ExecutionRecord) -> KitaruExecutionError:
    status = ExecutionStatus(record.state.value)
    origin = record.failure.origin if record.failure else None
    reason = record.status_reason or (record.failure.message if record.failure else "")
    message = f"Execution {record.exec_id} finished with status '{status.value}'."
    if reason:
        message += f" {reason}"
    if status is ExecutionStatus.FAILED and origin is FailureOrigin.USAGE:
        # The same code fails the same way; a retry re-imports the flow's module, so once
        # the code is fixed a retry runs the fix and keeps the completed checkpoints.
        message += (
            "\n\nThis is a usage error: retrying unchanged fails the same way. Fix the code "
            "(or the setting) the message names, then retry (completed checkpoints are "
            "reused):"
            f"\n\n  kitaru executions retry {record.exec_id}"
        )
    elif status is ExecutionStatus.FAILED:
        message += (
            f"\n\nTo retry this failed execution, run:\n\n  kitaru executions retry "
            f"{record.exec_id}"
        )
    cls: type[KitaruExecutionError] = KitaruExecutionError
    if origin is FailureOrigin.DIVERGENCE:
        cls = KitaruDivergenceError
    elif origin in (FailureOrigin.USER_CODE, FailureOrigin.USAGE):
        cls = KitaruUserCodeError  # a usage failure is the user code's too
    return cls(message, exec_id=record.exec_id, status=status, failure_origin=origin)


class Flow(Generic[P, R]):
    """A flow definition. Start executions with :meth:`run`; calling it directly is an error."""

    def __init__(
        self,
        func: Callable[P, R],
        *,
        stack: str | None = None,
        image: Any = None,
        cache: bool | None = None,
        retries: int | None = None,
    ) -> None:
        self.func = func
        self.name = sanitize(func.__name__, kind="flow")
        self.defaults = _layer(stack=stack, image=image, cache=cache, retries=retries)
        self._signature = inspect.signature(func)
        functools.update_wrapper(self, func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        raise KitaruUsageError(
            f"Direct flow calls are not supported. Use `{self.name}.run(...)` (returns a "
            f"handle) or `{self.name}.run(...).wait()` (returns the result)."
        )

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments:
        try:
            return self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise KitaruUsageError(f"Invalid arguments for flow '{self.name}': {exc}.") from exc

    def run(
        self,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> FlowHandle:
        """Start an execution and return its handle at once.

        Keyword arguments ``stack``, ``image``, ``cache`` and ``retries`` are execution
        options (they shadow flow parameters of the same name); the rest are flow inputs.
        """
        options = {k: kwargs.pop(k) for k in _SHADOWED if k in kwargs}
        bound = self._bind(args, kwargs)
        return self._submit(bound, options, replay_plan=None, original_exec_id=None)

    def run_detached(self, *args: P.args, **kwargs: P.kwargs) -> FlowHandle:
        """Like :meth:`run`, but the execution runs outside this process (on the local
        stack: a detached worker process), so this process may exit at once. Used by
        ``kitaru run`` and the MCP server."""
        options = {k: kwargs.pop(k) for k in _SHADOWED if k in kwargs}
        bound = self._bind(args, kwargs)
        return self._submit(bound, options, replay_plan=None, original_exec_id=None, detached=True)

    def _submit(
        self,
        bound: inspect.BoundArguments,
        options: dict[str, Any],
        *,
        replay_plan: Mapping[str, Any] | None,
        original_exec_id: str | None,
        detached: bool = False,
    ) -> FlowHandle:
        from kitaru._source import ImportTimeRunError, reimporting

        importer = getattr(reimporting, "active", None)
        if importer:
            raise ImportTimeRunError(
                f"Flow '{self.name}' was started while {importer}. Put the code that starts "
                'flows under `if __name__ == "__main__":` so the script can be imported '
                "without side effects."
            )
        call_layer = _layer(
            stack=options.get("stack"),
            image=options.get("image"),
            cache=options.get("cache"),
            retries=options.get("retries"),
        )
        resolved = _config.resolve_settings(decorator=self.defaults, call=call_layer)
        stack = validate_stack_name(resolved.stack or _config.DEFAULT_STACK)
        runtime = current_runtime()
        inputs = runtime.encode({"args": list(bound.args), "kwargs": dict(bound.kwargs)})
        flow_defaults = {k: v for k, v in self.defaults.as_dict().items() if v is not None}
        if flow_defaults.get("image") is not None:
            flow_defaults["image"] = _redact(flow_defaults["image"])
        spec = {
            "version": 1,
            "resolved_execution": {
                "stack": stack,
                "image": _redact(resolved.image),
                "cache": resolved.cache,
                "retries": resolved.retries,
            },
            "flow_defaults": flow_defaults,
        }
        record = ExecutionRecord(
            exec_id=str(uuid.uuid4()),
            flow_name=self.name,
            source=source_of(self.func),
            inputs=inputs,
            spec=spec,
            stack=stack,
            state=ExecutionState.PENDING,
            original_exec_id=original_exec_id,
            replay_plan=replay_plan,
            created_at=utcnow(),
        )
        from kitaru.runners import runner_for

        runner = runner_for(runtime, record)
        runtime.backend.create_execution(record)
        if detached:
            runner.continue_execution(record.exec_id)
        else:
            runner.start(record.exec_id, self)
        return FlowHandle(record.exec_id, runtime=runtime)

    def deploy(self, *args: Any, **kwargs: Any) -> Any:
        """Deployments come in a later release (SPEC decision 20)."""
        raise KitaruFeatureNotAvailableError(DEPLOYMENTS_NOT_AVAILABLE)

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """Deployments come in a later release (SPEC decision 20)."""
        raise KitaruFeatureNotAvailableError(DEPLOYMENTS_NOT_AVAILABLE)

    def replay(
        self,
        exec_id: str,
        *,
        from_: str,
        overrides: Mapping[str, Any] | None = None,
        stack: str | None = None,
        image: Any = None,
        cache: bool | None = None,
        retries: int | None = None,
        **flow_inputs: Any,
    ) -> FlowHandle:
        """Start a new execution that reuses ``exec_id``'s checkpoints before ``from_``."""
        return self._replay(
            exec_id,
            from_=from_,
            overrides=overrides,
            stack=stack,
            image=image,
            cache=cache,
            retries=retries,
            detached=False,
            **flow_inputs,
        )

    def _replay(
        self,
        exec_id: str,
        *,
        from_: str,
        overrides: Mapping[str, Any] | None,
        stack: str | None,
        image: Any,
        cache: bool | None,
        retries: int | None,
        detached: bool,
        **flow_inputs: Any,
    ) -> FlowHandle:
        from kitaru._replay import plan_replay

        runtime = current_runtime()
        source, plan = plan_replay(runtime, exec_id, from_=from_, overrides=overrides)
        if source.flow_name != self.name:
            raise KitaruUsageError(
                f"Execution '{exec_id}' belongs to flow '{source.flow_name}', not '{self.name}'."
            )
        previous = runtime.decode(source.inputs) if source.inputs else {"args": [], "kwargs": {}}
        bound = self._bind(tuple(previous.get("args", ())), dict(previous.get("kwargs", {})))
        for key, value in flow_inputs.items():
            if key not in self._signature.parameters:
                raise KitaruUsageError(
                    f"Flow '{self.name}' has no parameter '{key}'. Parameters: "
                    + ", ".join(self._signature.parameters)
                    + "."
                )
            bound.arguments[key] = value
        options = {"stack": stack, "image": image, "cache": cache, "retries": retries}
        return self._submit(
            bound, options, replay_plan=plan, original_exec_id=source.exec_id, detached=detached
        )

    def __repr__(self) -> str:
        return f"<kitaru.flow {self.name}>"


@overload
def flow(func: Callable[P, R], /) -> Flow[P, R]: ...


@overload
def flow(
    func: None = None,
    /,
    *,
    stack: str | None = None,
    image: Any = None,
    cache: bool | None = None,
    retries: int | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(
    func: Callable[P, R] | None = None,
    /,
    *,
    stack: str | None = None,
    image: Any = None,
    cache: bool | None = None,
    retries: int | None = None,
) -> Flow[P, R] | Callable[[Callable[P, R]], Flow[P, R]]:
    """Mark a function as a durable flow.

    Args:
        stack: the stack to run on (default: the active stack).
        image: container settings for container stacks (validated; ignored locally).
        cache: reuse outputs of identical checkpoint calls from earlier executions
            (default True).
        retries: re-run the whole flow from the top up to this many more times when it
            fails, reusing completed checkpoints (default 0).
    """

    def wrap(f: Callable[P, R]) -> Flow[P, R]:
        if isinstance(f, Flow):
            raise KitaruUsageError("This function is already a flow.")
        if not callable(f):
            raise KitaruUsageError(f"@flow needs a function, got {f!r}.")
        if inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f):
            raise KitaruUsageError(
                f"@flow does not support async functions yet ('{f.__name__}'). Use a regular "
                "function and run async code inside it with asyncio.run(...)."
            )
        return Flow(f, stack=stack, image=image, cache=cache, retries=retries)

    if func is not None:
        return wrap(func)
    return wrap
