"""Resolving waits: validation, compare-and-set, and the automatic continuation."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kitaru import _jsonschema
from kitaru.backend import (
    ExecutionState,
    WaitNotPendingError,
    WaitRecord,
    WaitResolution,
    WaitState,
)
from kitaru.errors import KitaruStateError, KitaruUsageError, KitaruWaitValidationError

if TYPE_CHECKING:
    from kitaru._runtime import Runtime


def select_wait(runtime: Runtime, exec_id: str, selector: str) -> WaitRecord:
    """The pending wait named (or with id) ``selector``."""
    if not isinstance(selector, str) or not selector.strip():
        raise KitaruUsageError("wait must be a non-empty wait name or id.")
    selector = selector.strip()
    waits = runtime.backend.get_waits(exec_id)
    pending = [w for w in waits if w.state is WaitState.PENDING]
    if not pending:
        done = [w for w in waits if selector in (w.name, w.wait_id)]
        already = (
            f" Wait '{selector}' is already {done[0].state.value}"
            + (" (another answer came first)." if done[0].state is WaitState.RESOLVED else ".")
            if done
            else ""
        )
        raise KitaruStateError(
            f"Execution '{exec_id}' has no pending waits to resolve.{already}", exec_id=exec_id
        )
    matches = [w for w in pending if selector in (w.name, w.wait_id)]
    if not matches:
        done = [w for w in waits if selector in (w.name, w.wait_id)]
        if done:
            raise KitaruStateError(
                f"Wait '{selector}' of execution '{exec_id}' is already {done[0].state.value}. "
                "Pending waits: " + ", ".join(w.name for w in pending) + ".",
                exec_id=exec_id,
            )
        raise KitaruStateError(
            f"Execution '{exec_id}' has no pending wait '{selector}'. Available waits: "
            + ", ".join(w.name for w in pending)
            + ".",
            exec_id=exec_id,
        )
    return matches[0]


def _plain(value: Any) -> Any:
    """A pydantic model, dataclass, datetime, UUID, enum member ... as the JSON data it
    stands for (the natural answer to a wait with ``schema=Model`` or ``schema=datetime``);
    anything pydantic cannot serialize unchanged (the JSON check then names it)."""
    import pydantic_core

    try:
        return pydantic_core.to_jsonable_python(value)
    except pydantic_core.PydanticSerializationError:
        return value


def resolve(
    runtime: Runtime,
    exec_id: str,
    selector: str,
    value: Any,
    *,
    abort: bool = False,
    continue_run: bool = True,
) -> WaitResolution:
    """Validate ``value`` against the wait's schema, resolve it (compare-and-set), and submit
    the execution to its stack when this resolution released it."""
    wait_record = select_wait(runtime, exec_id, selector)
    if not abort:
        value = _plain(value)
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise KitaruUsageError(f"Wait input must be JSON-serializable: {exc}") from exc
        # Converted the way pydantic's lax mode would ("5" -> 5 for an int, "yes" -> True
        # for a bool), and stored converted, so every reader sees the right JSON type.
        value, problems = _jsonschema.coerce(wait_record.schema, value)
        if problems:
            raise KitaruWaitValidationError(
                f"Input for wait '{wait_record.name}' does not match its schema: "
                + "; ".join(problems)
            )
    runner = None
    if not abort and continue_run:
        # A suspended execution continues on its stack once answered: check the stack before
        # anything changes, or an answered wait would leave the execution stranded.
        from kitaru.runners import runner_for

        execution = runtime.backend.get_execution(exec_id)
        if execution.state is ExecutionState.WAITING:
            runner = runner_for(runtime, execution)
    try:
        resolution = runtime.backend.resolve_wait(
            exec_id,
            wait_record.wait_id,
            state=WaitState.ABORTED if abort else WaitState.RESOLVED,
            value=None if abort else value,
        )
    except WaitNotPendingError as exc:
        raise KitaruStateError(
            f"Wait '{wait_record.name}' of execution '{exec_id}' was resolved by someone "
            "else just now.",
            exec_id=exec_id,
        ) from exc
    runtime.plugin_manager.hook.kitaru_wait_resolved(wait=resolution.wait)
    if resolution.should_continue and continue_run:
        if runner is None:
            from kitaru.runners import runner_for

            runner = runner_for(runtime, resolution.execution)
        runner.continue_execution(exec_id)
    return resolution
