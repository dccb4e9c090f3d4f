"""``wait()``: suspend the flow until a human (or another system) gives input."""

from __future__ import annotations

import json
import math
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any

from kitaru._clock import utcnow
from kitaru._context import current_checkpoint, current_flow
from kitaru._identity import sanitize
from kitaru._signals import Cancelled, LeaseLost, Suspend
from kitaru.backend import FencingError, WaitRecord, WaitState
from kitaru.errors import KitaruContextError, KitaruUsageError, KitaruWaitValidationError

POLL_SECONDS = 0.2


def schema_of(schema: Any, *, what: str = "wait") -> dict[str, Any] | None:
    if schema is None:
        return None
    import pydantic

    try:
        return pydantic.TypeAdapter(schema).json_schema()
    except Exception as exc:
        raise KitaruUsageError(
            f"{what}(schema=...) must be a type pydantic understands (bool, int, str, a model, "
            f"Literal[...], ...); {schema!r} is not: {exc}"
        ) from exc


def coerce(schema: Any, value: Any, *, wait_name: str) -> Any:
    if schema is None:
        return value
    import pydantic

    try:
        return pydantic.TypeAdapter(schema).validate_python(value)
    except pydantic.ValidationError as exc:
        raise KitaruWaitValidationError(
            f"Input for wait '{wait_name}' does not match its schema: {exc}"
        ) from exc


def _validate_args(
    name: Any, question: Any, timeout: Any, metadata: Any, *, what: str = "wait"
) -> None:
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise KitaruUsageError(f"{what}(name=...) must be a non-empty string, got {name!r}.")
    if question is not None and not isinstance(question, str):
        raise KitaruUsageError(f"{what}(question=...) must be a string, got {question!r}.")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout < 0
        or not math.isfinite(timeout)
    ):
        raise KitaruUsageError(
            f"{what}(timeout=...) must be a number of seconds >= 0, got {timeout!r}."
        )
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise KitaruUsageError(f"{what}(metadata=...) must be a dict.")
        try:
            json.dumps(metadata)
        except (TypeError, ValueError) as exc:
            raise KitaruUsageError(
                f"{what}(metadata=...) must be JSON-serializable: {exc}"
            ) from exc


def check_wait_args(
    *,
    name: Any = None,
    question: Any = None,
    timeout: Any = None,
    metadata: Any = None,
    schema: Any = None,
    what: str = "wait",
) -> None:
    """Refuse what :func:`wait` would refuse, with messages naming ``what`` (an adapter
    checks its own arguments with the same rules, before any wait is asked for)."""
    _validate_args(name, question, timeout, metadata, what=what)
    schema_of(schema, what=what)


def _interactive() -> bool:
    import os

    from kitaru._config import parse_bool

    if os.environ.get("KITARU_NO_PROMPT") and parse_bool(
        os.environ["KITARU_NO_PROMPT"], source="KITARU_NO_PROMPT"
    ):
        return False
    if os.environ.get("KITARU_WORKER"):
        return False
    try:
        return (
            sys.__stdin__ is not None
            and sys.__stdin__.isatty()
            and sys.__stdout__ is not None
            and sys.__stdout__.isatty()
        )
    except (ValueError, OSError):
        return False


def wait(
    *,
    schema: Any = None,
    name: str | None = None,
    question: str | None = None,
    timeout: float | None = 600,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Suspend the flow until input arrives, and return that input.

    Only in the flow body. The runner listens for ``timeout`` seconds (default 600); after
    that the execution stays ``waiting`` with no thread or process held, and input given
    later (``KitaruClient().executions.input``, ``kitaru executions input``, MCP) continues
    it automatically. With ``schema`` the input is validated and coerced by pydantic.
    """
    scope = current_checkpoint()
    if scope is not None and not scope.allows_waits:
        raise KitaruContextError(
            "wait() cannot be called inside a @checkpoint. Call wait() in the flow body instead."
        )
    return flow_wait(
        schema=schema, name=name, question=question, timeout=timeout, metadata=metadata
    )


def replayed_wait(name: str | None) -> None:
    """Count a wait an adapter does not issue again because the answer it got is replayed
    from the journal (a human-in-the-loop tool call recorded with its result): later waits of
    that name keep the names they had (``ask_2`` stays ``ask_2``) when the body reruns."""
    ctx = current_flow()
    if ctx is None:
        raise KitaruContextError("replayed_wait() can only run inside a @flow.")
    if name is not None and not isinstance(name, str):
        raise KitaruUsageError(f"A wait name must be a string or None, got {name!r}.")
    base = sanitize(name, kind="wait") if name else "wait"
    with ctx.lock:
        ctx.wait_counts[base] = ctx.wait_counts.get(base, 0) + 1
        _next_ordinal(ctx, current_checkpoint(), base)


def _next_ordinal(ctx: Any, scope: Any, base: str) -> str:
    """Count a wait of ``base`` where it is asked for (the flow body, or one checkpoint
    call); return its origin key: the same for the same wait whenever the body reruns,
    however waits of parallel checkpoint calls interleave. Call with ``ctx.lock`` held."""
    if scope is not None:
        scope.asked_wait = True
    ordinals = scope.wait_ordinals if scope is not None else ctx.wait_ordinals
    ordinals[base] = n = ordinals.get(base, 0) + 1
    where = scope.invocation_id if scope is not None else ""
    return f"{where}\0{base}\0{n}"


def _wait_identity(ctx: Any, scope: Any, base: str) -> tuple[str, str, bool]:
    """The wait's id and name, and whether it exists already.

    The id is derived from the execution and the wait's origin (:func:`_next_ordinal`), so
    a wait asked for again after a restart finds its record, and its name, by id: the
    answer given to ``ask_2`` goes back to the call that asked ``ask_2``. A new wait takes
    the next ``base``, ``base_2``, ... that no other wait of the execution has. (A wait
    created before ids were derived, a random v4 id, is found by name as it always was.)
    """
    backend = ctx.runtime.backend
    with ctx.lock:
        origin = _next_ordinal(ctx, scope, base)
    wait_id = str(uuid.uuid5(_WAIT_NAMESPACE, f"{ctx.exec_id}\0{origin}"))
    existing = backend.get_waits(ctx.exec_id)
    for record in existing:
        if record.wait_id == wait_id:
            return wait_id, str(record.name), True
    others = {r.name for r in existing if _derived(r.wait_id)}
    # A replay asks the waits again under the names they had in the source execution (a
    # reused call before the replay point asks nothing, which would shift the counted names).
    source = _source_name(ctx, origin)
    if source is not None and source not in others:
        return wait_id, source, False
    if ctx.source_wait_names:  # a new wait of a replay never takes a name the source used
        others |= set(ctx.source_wait_names.values())
    with ctx.lock:
        while True:
            count = ctx.wait_counts.get(base, 0) + 1
            ctx.wait_counts[base] = count
            wait_name = base if count == 1 else f"{base}_{count}"
            if wait_name not in others:
                return wait_id, wait_name, False


def _source_name(ctx: Any, origin: str) -> str | None:
    """The name the wait of ``origin`` had in the execution this one replays, if any."""
    source = ctx.replay_plan.get("source_exec_id")
    if not source:
        return None
    names: dict[str, str] | None = ctx.source_wait_names
    if names is None:
        names = {r.wait_id: r.name for r in ctx.runtime.backend.get_waits(source)}
        ctx.source_wait_names = names
    return names.get(str(uuid.uuid5(_WAIT_NAMESPACE, f"{source}\0{origin}")))


def _derived(wait_id: str) -> bool:
    try:
        return uuid.UUID(wait_id).version == 5
    except ValueError:
        return False


_WAIT_NAMESPACE = uuid.UUID("6f1b3c1e-5b0a-4c55-9d0e-6a1f0d4b7c21")


def flow_wait(
    *,
    schema: Any = None,
    name: str | None = None,
    question: str | None = None,
    timeout: float | None = 600,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """:func:`wait` without the checkpoint rule: the wait belongs to the flow even when it is
    issued from inside a checkpoint (an adapter's human-in-the-loop tool).

    When the wait suspends, the checkpoint is left unrecorded (its saved artifacts are kept)
    and its body runs again when the execution continues; the adapter replays the
    checkpoint's journaled child events, and this wait, re-created under the same name,
    returns the input.
    """
    scope = current_checkpoint()
    ctx = current_flow()
    if ctx is None:
        raise KitaruContextError("wait() can only run inside a @flow.")
    _validate_args(name, question, timeout, metadata)
    if scope is not None:
        scope.flush_artifacts()  # the call may be suspended here: keep what it saved
    json_schema = schema_of(schema)
    base = sanitize(name, kind="wait") if name else "wait"
    wait_id, wait_name, existed = _wait_identity(ctx, scope, base)
    record = WaitRecord(
        exec_id=ctx.exec_id,
        wait_id=wait_id,
        name=wait_name,
        schema=json_schema,
        question=question,
        metadata=dict(metadata or {}),
        created_at=utcnow(),
    )
    backend = ctx.runtime.backend
    try:
        stored = backend.create_wait(ctx.exec_id, ctx.epoch, record)
    except FencingError:
        raise LeaseLost() from None
    if stored.state is WaitState.RESOLVED:
        return coerce(schema, stored.value, wait_name=wait_name)
    if stored.state is WaitState.ABORTED:
        raise Cancelled(f"Wait '{wait_name}' was aborted.")
    if not existed and stored.wait_id == record.wait_id:
        ctx.runtime.plugin_manager.hook.kitaru_wait_created(wait=stored)
    if scope is not None and scope.running is not None:
        # The call waits with its execution: journal it as running now, with what it logged
        # so far (an agent's events), not only when it has run for a while.
        scope.running.write()
    if _interactive():
        return _prompt(ctx, stored, schema)
    deadline = time.monotonic() + (600 if timeout is None else float(timeout))
    while True:
        if ctx.lease_lost.is_set():
            raise LeaseLost()
        if ctx.cancel_requested.is_set():
            raise Cancelled("Cancelled by request.")
        if backend.get_execution(ctx.exec_id).cancel_requested:
            ctx.cancel_requested.set()
            raise Cancelled("Cancelled by request.")
        current = _reload(backend, ctx.exec_id, stored.wait_id)
        if current.state is WaitState.RESOLVED:
            return coerce(schema, current.value, wait_name=wait_name)
        if current.state is WaitState.ABORTED:
            raise Cancelled(f"Wait '{wait_name}' was aborted.")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Suspend(wait_name)
        time.sleep(min(POLL_SECONDS, remaining))


def _reload(backend: Any, exec_id: str, wait_id: str) -> WaitRecord:
    for wait_record in backend.get_waits(exec_id):
        if wait_record.wait_id == wait_id:
            return wait_record  # type: ignore[no-any-return]
    raise KitaruContextError(f"Wait {wait_id} disappeared from execution {exec_id}.")


def _prompt(ctx: Any, record: WaitRecord, schema: Any) -> Any:
    from kitaru._inputs import resolve

    out = sys.__stdout__
    assert out is not None and sys.__stdin__ is not None
    label = record.question or f"Input for '{record.name}'"
    while True:
        out.write(
            f"\n[kitaru] {label}\n  (JSON value; empty line = null; execution {ctx.exec_id})\n> "
        )
        out.flush()
        line = sys.__stdin__.readline()
        if not line:
            raise Suspend(record.name)
        text = line.strip()
        try:
            value = json.loads(text) if text else None
        except json.JSONDecodeError:
            value = text  # a bare word is taken as a string
        try:
            resolve(ctx.runtime, ctx.exec_id, record.name, value, continue_run=False)
        except KitaruWaitValidationError as exc:
            out.write(f"  {exc}\n")
            continue
        current = _reload(ctx.runtime.backend, ctx.exec_id, record.wait_id)
        return coerce(schema, current.value, wait_name=record.name)
