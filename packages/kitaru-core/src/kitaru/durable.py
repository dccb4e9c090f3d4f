"""Building blocks for harness adapters (PydanticAI, LangGraph, Claude Agent SDK, ``llm()``).

* :func:`run_as_checkpoint` runs a callable as a *synthetic* checkpoint of the current flow
  (an agent run in the flow body becomes ``<agent>_agent_run_<n>``), optionally allowing
  ``wait()`` inside it (a tool that needs a human).
* :func:`journaled` / :func:`ajournaled` record-or-replay one *child event* inside the current
  checkpoint: a model request or tool call whose JSON result is committed at once, so when an
  interrupted checkpoint runs again its completed child events return their recorded results
  instead of calling the model or tool again.
* :func:`flow_wait` is ``kitaru.wait()`` issued by an adapter on the user's behalf (a tool that
  asks a human): allowed inside any checkpoint, which then suspends and reruns on continuation.
  Plain ``kitaru.wait()`` stays an error inside a user's ``@checkpoint``. When such a call's
  answer is replayed from the journal instead, :func:`replayed_wait` counts its wait, so the
  waits after it keep their names.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from kitaru._checkpoint import Checkpoint
from kitaru._clock import utcnow
from kitaru._context import CheckpointScope, current_checkpoint, current_flow
from kitaru._metadata import _checked, stage_artifact
from kitaru._payloads import _json_payload
from kitaru._replay import payload_from_json, payload_to_json
from kitaru._signals import Cancelled, LeaseLost
from kitaru._wait import check_wait_args, flow_wait, replayed_wait
from kitaru.backend import ArtifactRecord, DocumentRecord, FencingError
from kitaru.errors import KitaruContextError, KitaruUsageError

__all__ = [
    "ajournaled",
    "check_wait_args",
    "current_exec_id",
    "current_invocation_id",
    "flow_wait",
    "in_checkpoint",
    "in_flow",
    "journaled",
    "next_run_number",
    "payload_from_json",
    "payload_to_json",
    "put_documents",
    "recorded_count",
    "replay_plan",
    "replayed_wait",
    "run_as_checkpoint",
    "save_json",
    "stable_id",
    "used_invocation_ids",
]

T = TypeVar("T")
EVENT_SAVE_TYPE = "event"
#: A new child event asks the journal for a cancel at most this often (the runner's heartbeat
#: also notices one, every third of the lease).
CANCEL_POLL_SECONDS = 1.0


def in_flow() -> bool:
    """Whether code runs inside a flow (flow body or checkpoint)."""
    return current_flow() is not None


def in_checkpoint() -> bool:
    """Whether code runs inside a checkpoint."""
    return current_checkpoint() is not None


def current_exec_id() -> str | None:
    """The id of the execution this code runs in (None outside a flow)."""
    ctx = current_flow()
    return ctx.exec_id if ctx is not None else None


def _flow_or_raise(what: str) -> Any:
    ctx = current_flow()
    if ctx is None:
        raise KitaruContextError(f"{what} can only run inside a @flow.")
    return ctx


def next_run_number(key: str) -> int:
    """1, 2, 3, ... for successive calls with ``key`` in one run of the flow body: stable
    across restarts (an adapter numbers its graph threads or agent runs with it)."""
    ctx = _flow_or_raise("next_run_number()")
    counter = f"\0{key}"  # cannot collide with a checkpoint name
    with ctx.lock:
        n = int(ctx.name_counts.get(counter, 0)) + 1
        ctx.name_counts[counter] = n
    return n


def used_invocation_ids() -> set[str]:
    """Invocation ids recorded for this execution or already used in this run of the body."""
    ctx = _flow_or_raise("used_invocation_ids()")
    with ctx.lock:
        return set(ctx.recorded) | set(ctx.live)


def replay_plan() -> Mapping[str, Any] | None:
    """The replay plan of the current execution (``None`` unless it is a replay):
    ``{"source_exec_id", "from", "reuse", "overrides"}``."""
    ctx = _flow_or_raise("replay_plan()")
    return dict(ctx.replay_plan) or None


def current_invocation_id() -> str | None:
    """The invocation id of the checkpoint this code runs in: stable across restarts."""
    scope = current_checkpoint()
    return scope.invocation_id if scope is not None else None


def run_as_checkpoint(
    fn: Callable[[], T],
    *,
    name: str,
    invocation_id: str | None = None,
    type: str | None = "llm_call",
    allow_waits: bool = False,
    numbered: bool = False,
    sync: bool = True,
) -> T:
    """Run ``fn`` as a checkpoint of the current flow body and return its (recorded) value.

    ``invocation_id`` fixes the id; ``numbered=True`` uses ``<name>_1``, ``<name>_2``, ... (the
    first not yet used in this run of the flow body); else the id is the name, numbered
    ``<name>_2``... on repeats like any checkpoint. With ``allow_waits``
    the body may call ``kitaru.wait()``; when that suspends, the checkpoint is not recorded
    and runs again on continuation, replaying its journaled child events. ``sync=False``
    commits the completed call without waiting for the disk: it survives a crash of this
    process at once and power loss from the next synced commit. Only for calls the adapter
    records again after a power loss (LangGraph's ``graph_node`` calls, re-recorded from the
    node documents committed with the node's writes).
    """
    if not isinstance(sync, bool):
        raise KitaruUsageError(f"run_as_checkpoint(sync=...) must be True or False, got {sync!r}.")
    if current_checkpoint() is not None:
        raise KitaruContextError("run_as_checkpoint() must be called from the flow body.")
    if current_flow() is None:
        raise KitaruContextError("run_as_checkpoint() can only run inside a @flow.")
    cp: Checkpoint[[], T] = Checkpoint(
        fn, name=name, type=type, cache=False, allows_waits=allow_waits, sync_commit=sync
    )
    if numbered and invocation_id is None:
        ctx = current_flow()
        assert ctx is not None
        with ctx.lock:
            n = 1
            while f"{cp.name}_{n}" in ctx.live:
                n += 1
        invocation_id = f"{cp.name}_{n}"
    if invocation_id is None:
        return cp()
    return cp(id=invocation_id)  # type: ignore[call-arg]


def _scope(what: str) -> CheckpointScope:
    scope = current_checkpoint()
    if scope is None:
        raise KitaruContextError(f"{what} can only run inside a checkpoint.")
    return scope


def _event_key(scope: CheckpointScope, key: str) -> str:
    if not isinstance(key, str) or not key:
        raise KitaruUsageError("A journaled event needs a non-empty key.")
    count = scope.event_counts.get(key, 0) + 1
    scope.event_counts[key] = count
    return f"{key}#{count}"


def stable_id(key: str) -> str:
    """A 64-hex-digit id for the n-th ``key`` asked for in the current checkpoint call.

    The id is derived from the execution, the invocation id and ``key#n``, so an earlier run
    of the same call got the same one, and nothing is written to the journal (an adapter
    names an agent run with it instead of journaling a random id).
    """
    scope = _scope("stable_id()")
    name = _event_key(scope, f"\0id:{key}")  # a namespace of its own: not an event name
    raw = f"{scope.flow.exec_id}\0{scope.invocation_id}\0{name}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _journal_events(ctx: Any) -> dict[str, dict[str, Any]]:
    """The execution's journaled child events (payloads by invocation id, then name): one
    read per segment, not one per checkpoint call; :func:`_record` keeps it current."""
    events: dict[str, dict[str, Any]] | None = ctx.journal_events
    if events is None:
        with ctx.lock:
            events = ctx.journal_events
            if events is None:
                events = {}
                for a in ctx.runtime.backend.list_artifacts(ctx.exec_id):
                    if a.save_type == EVENT_SAVE_TYPE and a.invocation_id is not None:
                        events.setdefault(a.invocation_id, {})[a.name] = a.payload
                ctx.journal_events = events
    return events


def _recorded(scope: CheckpointScope, name: str) -> tuple[bool, Any]:
    if scope.recorded_events is None:  # what earlier runs of this call recorded
        recorded = _journal_events(scope.flow).get(scope.invocation_id)
        scope.recorded_events = dict(recorded) if recorded else {}
    payload = scope.recorded_events.get(name)
    if payload is None:
        return False, None
    return True, scope.flow.runtime.decode(payload)


def _before_event(ctx: Any) -> None:
    """A child event is about to run (not replayed): stop here, before its side effect, if
    the execution was cancelled or this runner lost its lease (a long agent run in one
    checkpoint stops at its next model request or tool call, not at the checkpoint's end)."""
    if ctx.lease_lost.is_set():
        raise LeaseLost()
    if not ctx.cancel_requested.is_set():
        now = time.monotonic()
        if now - ctx.cancel_polled < CANCEL_POLL_SECONDS:
            return
        ctx.cancel_polled = now
        if not ctx.runtime.backend.get_execution(ctx.exec_id).cancel_requested:
            return
        ctx.cancel_requested.set()
    raise Cancelled("Cancelled by request.")


def _record(
    scope: CheckpointScope, name: str, value: Any, save_as: tuple[str, str] | None = None
) -> None:
    ctx = scope.flow
    try:
        payload = ctx.runtime.encode(value)
    except Exception:
        payload = None
    if payload is None or payload.serializer != "json":  # JSON trees need no other check
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise KitaruUsageError(
                f"Journaled event '{name}' must return JSON data: {exc}"
            ) from exc
        if payload is None:
            payload = ctx.runtime.encode(value)
    artifact = ArtifactRecord(
        artifact_id=str(uuid.uuid4()),
        exec_id=ctx.exec_id,
        name=name,
        payload=payload,
        save_type=EVENT_SAVE_TYPE,
        invocation_id=scope.invocation_id,
        kind="event",
        created_at=utcnow(),
    )
    if save_as is not None:  # the same encoded value, also as a named artifact of the call
        stage_artifact(scope, save_as[0], payload, save_as[1])
    batch = [*scope.pending_artifacts, artifact]
    scope.pending_artifacts.clear()  # in place: the call's commit shares this list
    try:  # the event and the artifacts saved before it: one commit, not waiting for the
        # disk (a process crash keeps it; a power loss can cost running the event again)
        ctx.runtime.backend.put_artifacts(ctx.exec_id, ctx.epoch, batch, sync=False)
    except FencingError:
        raise LeaseLost() from None
    events = _journal_events(ctx)
    with ctx.lock:
        events.setdefault(scope.invocation_id, {})[name] = payload


def recorded_count(key: str) -> int:
    """How many ``key`` events an earlier run of the current checkpoint call recorded
    (without recording or consuming one)."""
    scope = _scope("recorded_count()")
    _recorded(scope, "")  # loads what earlier runs of this call recorded
    assert scope.recorded_events is not None
    prefix = f"{key}#"
    return sum(1 for name in scope.recorded_events if name.startswith(prefix))


def put_documents(documents: Sequence[DocumentRecord]) -> None:
    """Write adapter documents to the journal; inside a flow the write is fenced to the
    running segment (a zombie runner cannot overwrite them)."""
    from kitaru._runtime import current_runtime

    ctx = current_flow()
    if ctx is None:
        current_runtime().backend.put_documents(documents)
        return
    try:
        ctx.runtime.backend.put_documents(documents, exec_id=ctx.exec_id, epoch=ctx.epoch)
    except FencingError:
        raise LeaseLost() from None


def journaled(key: str, fn: Callable[[], T], *, save_as: tuple[str, str] | None = None) -> T:
    """Record-or-replay one child event of the current checkpoint.

    The n-th event with ``key`` in this checkpoint call returns the value recorded for it by
    an earlier run of the same call, else runs ``fn`` and commits its JSON result at once.
    ``save_as=(name, type)`` also saves that result as an artifact of the call (as
    :func:`kitaru.save` would, encoded once, in the event's commit) when ``fn`` runs.
    """
    scope = _scope("journaled()")
    name = _event_key(scope, key)
    save_as = _checked_save_as(save_as)
    found, value = _recorded(scope, name)
    if found:
        return value  # type: ignore[no-any-return]
    _before_event(scope.flow)
    value = fn()
    _record(scope, name, value, save_as)
    return value


async def ajournaled(
    key: str, fn: Callable[[], Awaitable[T]], *, save_as: tuple[str, str] | None = None
) -> T:
    """:func:`journaled` for coroutines."""
    scope = _scope("ajournaled()")
    name = _event_key(scope, key)
    save_as = _checked_save_as(save_as)
    found, value = _recorded(scope, name)
    if found:
        return value  # type: ignore[no-any-return]
    _before_event(scope.flow)
    value = await fn()
    _record(scope, name, value, save_as)
    return value


def _checked_save_as(save_as: Any) -> tuple[str, str] | None:
    if save_as is None:
        return None
    if not isinstance(save_as, tuple) or len(save_as) != 2:
        raise KitaruUsageError(f"save_as must be a (name, type) pair, got {save_as!r}.")
    _, name, kind, _ = _checked("save_as", save_as[0], save_as[1], None)
    return name, kind


def save_json(name: str, data: bytes, *, type: str = "output") -> None:
    """:func:`kitaru.save` for a value that is already JSON: ``data`` is its UTF-8 JSON text
    (for example from pydantic's ``dump_json``), stored as is, without decoding and encoding
    it again. It is loaded back as the JSON value."""
    scope, name, kind, _ = _checked("save_json()", name, type, None)
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise KitaruUsageError("save_json() needs the value's JSON text as non-empty bytes.")
    if data.lstrip()[:1] not in _JSON_STARTS:
        raise KitaruUsageError(f"save_json(): {bytes(data[:40])!r} is not JSON text.")
    runtime = scope.flow.runtime
    payload = _json_payload(bytes(data), runtime.artifact_store, runtime.inline_limit)
    stage_artifact(scope, name, payload, kind)


_JSON_STARTS = frozenset(bytes([c]) for c in b'{["-0123456789tfn')
