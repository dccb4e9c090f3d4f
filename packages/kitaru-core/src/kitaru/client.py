"""``KitaruClient``: inspect and operate executions that already exist."""

from __future__ import annotations

import bisect
import builtins
import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from kitaru import _liveness
from kitaru._models import (
    ArtifactRef,
    CheckpointAttempt,
    CheckpointCall,
    Execution,
    FailureInfo,
    LogEntry,
    PendingWait,
    WaitInfo,
    to_jsonable,
)
from kitaru._runtime import Runtime, current_runtime
from kitaru._status import ExecutionStatus, parse_status, public_status
from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    CallRecord,
    CallState,
    ExecutionNotFoundError,
    ExecutionRecord,
    ExecutionState,
    FailureRecord,
    NotFoundError,
    WaitRecord,
    WaitState,
)
from kitaru.errors import (
    FailureOrigin,
    KitaruFeatureNotAvailableError,
    KitaruStateError,
    KitaruUsageError,
)

__all__ = [
    "ArtifactRef",
    "CheckpointAttempt",
    "CheckpointCall",
    "Execution",
    "ExecutionStatus",
    "FailureInfo",
    "KitaruClient",
    "LogEntry",
    "PendingWait",
    "WaitInfo",
    "to_jsonable",
]

_STATE_FOR_STATUS = {
    ExecutionStatus.RUNNING: [ExecutionState.PENDING, ExecutionState.RUNNING],
    ExecutionStatus.WAITING: [
        ExecutionState.WAITING,
        ExecutionState.RUNNING,
        ExecutionState.PENDING,
    ],
    ExecutionStatus.COMPLETED: [ExecutionState.COMPLETED],
    ExecutionStatus.FAILED: [ExecutionState.FAILED],
    ExecutionStatus.CANCELLED: [ExecutionState.CANCELLED],
}


def _failure(record: FailureRecord | None) -> FailureInfo | None:
    if record is None:
        return None
    return FailureInfo(
        message=record.message,
        exception_type=record.exception_type,
        traceback=record.traceback,
        origin=record.origin,
    )


_T = TypeVar("_T")
_FIELDS: dict[type, frozenset[str]] = {}


def _construct(cls: type[_T], values: dict[str, Any]) -> _T:
    """``cls(**values)`` for one of our frozen models, without running ``__init__``.

    ``values`` must name every field (then the object equals the one ``__init__`` builds);
    otherwise, or for a class with ``__post_init__``, ``__init__`` runs. The frozen
    ``__init__`` sets each field with ``object.__setattr__``: for ``list()`` over 10,000
    executions that was a tenth of ``kitaru executions list``.
    """
    fields = _FIELDS.get(cls)
    if fields is None:
        names = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        fields = _FIELDS[cls] = frozenset() if hasattr(cls, "__post_init__") else names
    if values.keys() != fields:
        return cls(**values)
    model = object.__new__(cls)
    model.__dict__.update(values)
    return model


def _check_limit(limit: Any) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise KitaruUsageError(f"limit must be an integer >= 1, got {limit!r}.")
    return limit


def _check_id(exec_id: Any) -> str:
    if not isinstance(exec_id, str) or not exec_id.strip():
        raise KitaruUsageError(f"Execution id must be a non-empty string, got {exec_id!r}.")
    return exec_id.strip()


class _Executions:
    def __init__(self, client: KitaruClient) -> None:
        self._client = client

    @property
    def _rt(self) -> Runtime:
        return self._client.runtime

    # -- reading ---------------------------------------------------------------------------

    def _record(self, exec_id: str) -> ExecutionRecord:
        """The execution named by ``exec_id``: a full id, else as :meth:`resolve_id` reads
        it (a unique prefix of at least 6 characters, any case), as the CLI and MCP do."""
        return _liveness.reap(self._rt.backend, self._find(_check_id(exec_id)))

    def resolve_id(self, exec_id_or_prefix: str) -> str:
        """The full id of the execution that ``exec_id_or_prefix`` (>= 6 chars) names.

        Case-insensitive for the UUIDs Kitaru makes (they are stored in lower case): an id or
        prefix copied in upper case names the same execution. An id stored with upper-case
        letters still matches exactly.
        """
        return self._find(_check_id(exec_id_or_prefix)).exec_id

    def _find(self, text: str) -> ExecutionRecord:
        """The execution ``text`` names (see :meth:`resolve_id`), read once."""
        backend = self._rt.backend
        candidates = [text] if text == text.lower() else [text, text.lower()]
        for candidate in candidates:
            try:
                return backend.get_execution(candidate)
            except ExecutionNotFoundError:
                pass
        if len(text) < 6:
            raise KitaruUsageError(
                f"No execution '{text}', and it is too short to be a prefix: an execution id "
                f"prefix needs at least 6 characters (this one has {len(text)}). Give the full "
                "execution id or a longer prefix."
            )
        found = sorted({i for c in candidates for i in backend.find_execution_ids(c, limit=6)})
        if not found:
            raise ExecutionNotFoundError(text)
        if len(found) > 1:
            raise KitaruStateError(
                f"Execution prefix '{text}' is ambiguous: it matches "
                + ", ".join(found[:5])
                + (" and more" if len(found) > 5 else "")
                + ". Give more characters."
            )
        return backend.get_execution(found[0])

    def _artifact_ref(self, a: ArtifactRecord, calls: Mapping[str, CallRecord]) -> ArtifactRef:
        call = calls.get(a.invocation_id) if a.invocation_id else None
        return ArtifactRef(
            artifact_id=a.artifact_id,
            name=a.name,
            kind=a.kind,
            save_type=a.save_type,
            producing_call=call.name if call else a.invocation_id,
            metadata=dict(a.metadata),
            exec_id=a.exec_id,
            size=a.payload.size,
            serializer=a.payload.serializer,
            _client=self._client,
        )

    def _attempt(self, a: AttemptRecord, name: str) -> CheckpointAttempt:
        failure = _failure(a.failure)
        if a.state is CallState.FAILED and failure is None:
            failure = FailureInfo(message=f"Checkpoint '{name}' failed.")
        return CheckpointAttempt(
            attempt_id=a.attempt_id,
            status=ExecutionStatus(a.state.value)
            if a.state is not CallState.RUNNING
            else ExecutionStatus.RUNNING,
            started_at=a.started_at,
            ended_at=a.ended_at,
            failure=failure,
        )

    def _pending_of(self, record: ExecutionRecord) -> builtins.list[WaitRecord]:
        if record.state.is_finished:
            return []
        return [
            w for w in self._rt.backend.get_waits(record.exec_id) if w.state is WaitState.PENDING
        ]

    def _build(
        self,
        record: ExecutionRecord,
        *,
        full: bool,
        pending: builtins.list[WaitRecord] | None = None,
        counts: tuple[int, int] | None = None,
        status: ExecutionStatus | None = None,
    ) -> Execution:
        if pending is None:
            pending = self._pending_of(record)
        if status is None:
            status = public_status(record.state, has_pending_wait=bool(pending))
        checkpoints: list[CheckpointCall] = []
        artifacts: list[ArtifactRef] = []
        rounds: list[CheckpointAttempt] = []
        if full:
            backend = self._rt.backend
            calls = backend.get_calls(record.exec_id)
            by_inv = {c.invocation_id: c for c in calls}
            arts = backend.list_artifacts(record.exec_id)
            # Child events journaled by adapters are internal; artifacts are what users saved.
            arts = [a for a in arts if a.save_type != "event"]
            artifacts = [self._artifact_ref(a, by_inv) for a in arts]
            by_call: dict[str | None, list[ArtifactRef]] = {}
            for record_, ref in zip(arts, artifacts, strict=True):
                by_call.setdefault(record_.invocation_id, []).append(ref)
            attempts: dict[str | None, list[AttemptRecord]] = {}
            for attempt in backend.get_attempts(record.exec_id):
                attempts.setdefault(attempt.invocation_id, []).append(attempt)
            rounds = [self._attempt(a, record.flow_name) for a in attempts.get(None, [])]
            for call in calls:
                history = attempts.get(call.invocation_id, [])
                checkpoints.append(
                    CheckpointCall(
                        call_id=call.call_id,
                        name=call.name,
                        invocation_id=call.invocation_id,
                        status=_call_status(call, record, status),
                        started_at=call.started_at,
                        ended_at=call.ended_at,
                        checkpoint_type=call.checkpoint_type,
                        metadata=dict(call.metadata),
                        original_call_id=history[0].attempt_id if len(history) > 1 else None,
                        parent_call_ids=tuple(
                            by_inv[p].call_id for p in call.parent_invocation_ids if p in by_inv
                        ),
                        failure=_failure(call.failure) if call.state is CallState.FAILED else None,
                        attempts=tuple(self._attempt(a, call.name) for a in history),
                        artifacts=tuple(by_call.get(call.invocation_id, ())),
                        cached_from=call.cached_from,
                        overridden=call.overridden,
                    )
                )
        waits: tuple[WaitInfo, ...] = ()
        if full:
            counts = (len(checkpoints), len(artifacts))
            waits = tuple(_wait_info(w) for w in self._rt.backend.get_waits(record.exec_id))
        failure = None
        if record.state is ExecutionState.FAILED:
            failure = _failure(record.failure) or FailureInfo(
                message=f"Execution {record.exec_id} failed."
            )
        return _construct(
            Execution,
            {
                "exec_id": record.exec_id,
                "flow_id": record.flow_name,
                "flow_name": record.flow_name,
                "status": status,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "stack_name": record.stack,
                "metadata": dict(record.metadata),
                "status_reason": record.status_reason,
                "failure": failure,
                "pending_wait": _pending(pending[0]) if pending else None,
                "frozen_execution_spec": dict(record.spec),
                "original_exec_id": record.original_exec_id,
                "checkpoints": tuple(checkpoints),
                "artifacts": tuple(artifacts),
                "attempts": tuple(rounds),
                "created_at": record.created_at,
                "checkpoint_count": counts[0] if counts else None,
                "artifact_count": counts[1] if counts else None,
                "waits": waits,
                "cancel_requested": record.cancel_requested and not record.state.is_finished,
                "_client": self._client,
            },
        )

    def get(self, exec_id: str) -> Execution:
        """Full details of one execution: checkpoints, attempts, artifacts, pending wait."""
        return self._build(self._record(exec_id), full=True)

    def list(
        self,
        *,
        flow: str | None = None,
        status: ExecutionStatus | str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Execution]:
        """Execution summaries, newest first (``checkpoints`` and ``artifacts`` empty)."""
        limit = _check_limit(limit)
        wanted = parse_status(status) if status is not None else None
        if flow is not None and (not isinstance(flow, str) or not flow.strip()):
            raise KitaruUsageError("flow must be a non-empty flow name.")
        states = _STATE_FOR_STATUS[wanted] if wanted is not None else None
        backend = self._rt.backend
        # Over-fetch only when the public status needs a per-row check (running vs waiting).
        exact = wanted in (
            None,
            ExecutionStatus.COMPLETED,
            ExecutionStatus.FAILED,
            ExecutionStatus.CANCELLED,
        )
        rows = backend.list_executions(
            flow_name=flow.strip() if flow else None,
            states=states,
            limit=limit if exact else None,
        )
        selected: builtins.list[
            tuple[ExecutionRecord, builtins.list[WaitRecord], ExecutionStatus]
        ] = []
        for row in rows:
            if row.state is ExecutionState.RUNNING:
                row = _liveness.reap(backend, row)
            pending = self._pending_of(row)
            status = public_status(row.state, has_pending_wait=bool(pending))
            if wanted is not None and status is not wanted:
                continue
            selected.append((row, pending, status))
            if limit is not None and len(selected) >= limit:
                break
        counts = backend.count_children([row.exec_id for row, _, _ in selected])
        return [
            self._build(
                row,
                full=False,
                pending=pending,
                counts=counts.get(row.exec_id, (0, 0)),
                status=status,
            )
            for row, pending, status in selected
        ]

    def latest(
        self, *, flow: str | None = None, status: ExecutionStatus | str | None = None
    ) -> Execution:
        items = self.list(flow=flow, status=status, limit=1)
        if not items:
            if flow is None and status is None:
                raise LookupError("No executions found.")
            parts = []
            if flow is not None:
                parts.append(f"flow={flow!r}")
            if status is not None:
                parts.append(f"status={parse_status(status).value!r}")
            raise LookupError(f"No executions found for {' and '.join(parts)}.")
        return self.get(items[0].exec_id)

    def pending_waits(self, exec_id: str) -> builtins.list[PendingWait]:
        record = self._record(exec_id)
        return [
            _pending(w)
            for w in self._rt.backend.get_waits(record.exec_id)
            if w.state is WaitState.PENDING
        ]

    def logs(
        self,
        exec_id: str,
        *,
        checkpoint: str | None = None,
        source: str = "step",
        limit: int | None = None,
    ) -> builtins.list[LogEntry]:
        """Captured runtime log lines, oldest first.

        ``source="step"`` (default): lines from inside checkpoints; ``"runner"``: the flow
        body and engine; ``"all"``: both. ``checkpoint`` selects one checkpoint invocation:
        its invocation id or call id, or its name when only one invocation has it (SPEC
        decision 8).
        """
        if not isinstance(source, str) or source.strip().lower() not in ("step", "runner", "all"):
            raise KitaruUsageError(f"source must be 'step', 'runner' or 'all', got {source!r}.")
        source = source.strip().lower()
        limit = _check_limit(limit)
        if checkpoint is not None:
            if not isinstance(checkpoint, str) or not checkpoint.strip():
                raise KitaruUsageError("checkpoint must be a non-empty checkpoint name.")
            if source == "runner":
                raise KitaruUsageError(
                    "checkpoint cannot be combined with source='runner' (runner logs belong to "
                    "no checkpoint)."
                )
        record = self._record(exec_id)
        backend = self._rt.backend
        calls = {c.invocation_id: c for c in backend.get_calls(record.exec_id)}
        invocation_ids: set[str] | None = None
        if checkpoint is not None:
            from kitaru._replay import select_call

            checkpoint = checkpoint.strip()
            if any(checkpoint in (inv, c.name, c.call_id) for inv, c in calls.items()):
                # SPEC decision 8: an invocation id or call id exactly, else a unique name
                # (several invocations of that name: an error naming them).
                selected = select_call(list(calls.values()), checkpoint, exec_id=record.exec_id)
                invocation_ids = {selected.invocation_id}
            else:
                raise KitaruStateError(
                    f"Execution '{record.exec_id}' has no checkpoint '{checkpoint}'. "
                    f"Checkpoints: {', '.join(calls) or 'none'}.",
                    exec_id=record.exec_id,
                )
        merged = source == "all"
        rows = backend.get_logs(
            record.exec_id,
            source=None if merged else source,
            limit=limit if invocation_ids is None and not merged else None,
        )
        if merged:  # a checkpoint's lines are journaled when it ends: merge them by time
            rows = sorted(rows, key=lambda row: row.timestamp)
        attempt_of = _attempt_finder(backend.get_attempts(record.exec_id)) if rows else None
        out = []
        for row in rows:
            if invocation_ids is not None and row.invocation_id not in invocation_ids:
                continue
            call = calls.get(row.invocation_id) if row.invocation_id else None
            out.append(
                LogEntry(
                    message=row.message,
                    level=row.level,
                    timestamp=row.timestamp.isoformat(),
                    source=row.source,
                    checkpoint_name=call.name if call else row.invocation_id,
                    module=row.module,
                    filename=row.filename,
                    lineno=row.lineno,
                    invocation_id=row.invocation_id,
                    attempt=attempt_of(row.invocation_id, row.timestamp) if attempt_of else None,
                )
            )
            if limit is not None and len(out) >= limit:
                break
        return out

    # -- operating -------------------------------------------------------------------------

    def input(self, exec_id: str, *, wait: str, value: Any) -> Execution:
        """Answer a pending wait (by name or id). The execution continues automatically."""
        from kitaru._inputs import resolve

        record = self._record(exec_id)
        resolve(self._rt, record.exec_id, wait, value)
        return self.get(record.exec_id)

    def abort_wait(self, exec_id: str, *, wait: str) -> Execution:
        """Abort a pending wait: the execution ends as ``cancelled``."""
        from kitaru._inputs import resolve

        record = self._record(exec_id)
        resolve(self._rt, record.exec_id, wait, None, abort=True)
        return self.get(record.exec_id)

    def retry(self, exec_id: str) -> Execution:
        """Continue a failed execution from the top, reusing its completed checkpoints."""
        record = self._record(exec_id)
        if record.state is not ExecutionState.FAILED:
            status = self._build(record, full=False).status
            hint = ""
            if record.state is ExecutionState.CANCELLED:
                hint = (
                    " A cancelled execution is not continued: start a new one from it with "
                    f"`kitaru executions replay {record.exec_id} --from <checkpoint>` "
                    "(KitaruClient().executions.replay)."
                )
            raise KitaruStateError(
                f"Only failed executions can be retried. Execution '{record.exec_id}' is "
                f"currently '{status.value}'.{hint}",
                exec_id=record.exec_id,
                status=status,
            )
        try:
            self._restart(record, ExecutionState.FAILED)
        except KitaruStateError:  # another retry (or resume) moved it on first
            now = self.get(record.exec_id)
            raise KitaruStateError(
                f"Execution '{record.exec_id}' was continued by another retry just now: it is "
                f"'{now.status.value}'. Nothing more to do; follow it with get() or "
                "FlowHandle.wait().",
                exec_id=record.exec_id,
                status=now.status,
            ) from None
        return self.get(record.exec_id)

    def resume(self, exec_id: str) -> Execution:
        """Continue a waiting execution whose waits are all resolved (idempotent)."""
        record = self._record(exec_id)
        pending = [
            w for w in self._rt.backend.get_waits(record.exec_id) if w.state is WaitState.PENDING
        ]
        if pending and not record.state.is_finished:
            raise KitaruStateError(
                f"Resolve pending wait input before resuming execution '{record.exec_id}': "
                f"pending waits: {', '.join(w.name for w in pending)}. Answering them "
                "continues the execution by itself; no resume is needed.",
                exec_id=record.exec_id,
            )
        if record.state in (ExecutionState.FAILED, ExecutionState.CANCELLED):
            raise KitaruStateError(
                f"Only waiting executions can be resumed. Execution '{record.exec_id}' is "
                f"currently '{record.state.value}'"
                + (" (use retry)." if record.state is ExecutionState.FAILED else "."),
                exec_id=record.exec_id,
                status=record.state,
            )
        if record.state is ExecutionState.WAITING:
            self._restart(record, ExecutionState.WAITING)
        elif record.state is ExecutionState.PENDING:
            self._continue(record)  # a lost continuation: submit again (lease dedupes)
        return self.get(record.exec_id)

    def _restart(self, record: ExecutionRecord, from_state: ExecutionState) -> None:
        from kitaru.runners import runner_for

        runner = runner_for(self._rt, record)  # an unusable stack fails before any change
        restarted = self._rt.backend.restart(record.exec_id, from_states=[from_state])
        runner.continue_execution(restarted.exec_id)

    def _continue(self, record: ExecutionRecord) -> None:
        from kitaru.runners import runner_for

        runner_for(self._rt, record).continue_execution(record.exec_id)

    def cancel(self, exec_id: str) -> Execution:
        """Cancel an unfinished execution, and return it as it is now.

        A ``pending`` or ``waiting`` execution that no runner drives is cancelled at once
        (the returned status is ``cancelled``). A running one only gets the cancel
        *requested*: its runner stops it at the next checkpoint boundary, journaled child event
        (an agent's model request or tool call, within a second) or in ``wait()``, so
        the returned status is still ``running`` (or ``waiting``) until then; poll
        ``get()`` or ``FlowHandle.wait()`` to see it end as ``cancelled``.
        """
        record = self._record(exec_id)
        if record.state.is_finished:
            raise KitaruStateError(
                f"Execution '{record.exec_id}' has already finished "
                f"('{record.state.value}'); nothing to cancel.",
                exec_id=record.exec_id,
                status=record.state,
            )
        self._rt.backend.request_cancel(record.exec_id)
        return self.get(record.exec_id)

    def replay(
        self,
        exec_id: str,
        *,
        from_: str,
        overrides: Mapping[str, Any] | None = None,
        **flow_inputs: Any,
    ) -> Execution:
        """Start a new execution from ``exec_id``, reusing checkpoints before ``from_``.

        The new execution runs outside this process (on the local stack: a detached worker
        that re-imports the flow), like an execution continued after input. ``flow_inputs``
        replace the source's inputs; they are checked against the flow's annotations and
        converted as ``kitaru run --args`` does (pydantic's lax mode).
        """
        from kitaru._flow import Flow
        from kitaru._replay import plan_replay
        from kitaru._runtime import use_runtime
        from kitaru._source import load_source

        record = self._record(exec_id)
        plan_replay(self._rt, record.exec_id, from_=from_, overrides=overrides)  # validate
        target = load_source(record.source)
        if not isinstance(target, Flow):
            raise KitaruStateError(
                f"'{record.source.qualname}' in {record.source.file or record.source.module} "
                "is no longer a @flow.",
                exec_id=record.exec_id,
            )
        if flow_inputs:
            from kitaru.targets import coerce_flow_inputs

            flow_inputs = coerce_flow_inputs(target, flow_inputs, partial=True)
        with use_runtime(self._rt):
            # Detached: the new execution runs in a worker, not on a thread of the caller.
            handle = target._replay(
                record.exec_id,
                from_=from_,
                overrides=overrides,
                stack=None,
                image=None,
                cache=None,
                retries=None,
                detached=True,
                **flow_inputs,
            )
        return self.get(handle.exec_id)


class _Artifacts:
    def __init__(self, client: KitaruClient) -> None:
        self._client = client

    def list(
        self,
        exec_id: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        producing_call: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[ArtifactRef]:
        limit = _check_limit(limit)
        execution = self._client.executions.get(exec_id)
        out = [
            a
            for a in execution.artifacts
            if (name is None or a.name == name)
            and (kind is None or a.kind == kind)
            and (producing_call is None or a.producing_call == producing_call)
        ]
        return out if limit is None else out[:limit]

    def get(self, artifact_id: str) -> ArtifactRef:
        backend = self._client.runtime.backend
        if not isinstance(artifact_id, str) or not artifact_id.strip():
            raise KitaruUsageError("artifact_id must be a non-empty string.")
        try:
            record = backend.get_artifact(artifact_id.strip())
        except NotFoundError:
            raise
        calls = {c.invocation_id: c for c in backend.get_calls(record.exec_id)}
        return self._client.executions._artifact_ref(record, calls)

    def load(self, artifact_id: str) -> Any:
        runtime = self._client.runtime
        record = runtime.backend.get_artifact(artifact_id)
        return runtime.decode(record.payload)


def _pending(w: WaitRecord) -> PendingWait:
    return PendingWait(
        wait_id=w.wait_id,
        name=w.name,
        question=w.question,
        schema=dict(w.schema) if w.schema is not None else None,
        metadata=dict(w.metadata),
        entered_waiting_at=w.created_at,
    )


def _attempt_finder(
    attempts: builtins.list[AttemptRecord],
) -> Callable[[str | None, datetime], int | None]:
    """``find(invocation_id, timestamp)``: which attempt of that invocation (None: which flow
    round) had last started at ``timestamp``, counted from 1 in start order as
    ``CheckpointCall.attempts`` lists them (``AttemptRecord.number`` restarts with each
    runner); None before the first one."""
    starts: dict[str | None, builtins.list[datetime]] = {}
    for a in attempts:
        starts.setdefault(a.invocation_id, []).append(a.started_at)
    for history in starts.values():
        history.sort()

    def find(invocation_id: str | None, timestamp: datetime) -> int | None:
        history = starts.get(invocation_id)
        if not history:
            return None
        index = bisect.bisect_right(history, timestamp)
        return index or None

    return find


def _call_status(
    call: CallRecord, record: ExecutionRecord, status: ExecutionStatus
) -> ExecutionStatus:
    """A call's public status: a call left running by a suspended segment waits with its
    execution; one stopped because its execution was cancelled (failed with the cancel's
    reason) reads cancelled."""
    if call.state is CallState.RUNNING:
        return (
            ExecutionStatus.WAITING
            if status is ExecutionStatus.WAITING
            else ExecutionStatus.RUNNING
        )
    if (
        call.state is CallState.FAILED
        and record.state is ExecutionState.CANCELLED
        and call.failure is not None
        and call.failure.origin is FailureOrigin.RUNTIME
        and call.failure.message == record.status_reason
    ):
        return ExecutionStatus.CANCELLED
    return ExecutionStatus(call.state.value)


def _wait_info(w: WaitRecord) -> WaitInfo:
    resolved = w.state is WaitState.RESOLVED
    return WaitInfo(
        wait_id=w.wait_id,
        name=w.name,
        status=w.state.value,
        question=w.question,
        value=w.value if resolved else None,
        created_at=w.created_at,
        resolved_at=w.resolved_at,
        schema=w.schema,
        metadata=dict(w.metadata),
    )


class KitaruClient:
    """Inspect and operate executions: ``client.executions``, ``client.artifacts``."""

    def __init__(
        self,
        *,
        server_url: str | None = None,
        auth_token: str | None = None,
        project: str | None = None,
    ) -> None:
        if server_url is not None or auth_token is not None or project is not None:
            raise KitaruFeatureNotAvailableError(
                "Per-client connection overrides are not available: the client uses the "
                "journal named by KITARU_STORE_URL (or the embedded default)."
            )
        self.runtime = current_runtime()
        self.executions = _Executions(self)
        self.artifacts = _Artifacts(self)

    @property
    def memories(self) -> Any:
        """Durable memory comes in a later release (SPEC decision 20)."""
        from kitaru.memory import NOT_AVAILABLE

        raise KitaruFeatureNotAvailableError(NOT_AVAILABLE)

    @property
    def deployments(self) -> Any:
        """Deployments come in a later release (SPEC decision 20)."""
        from kitaru._flow import DEPLOYMENTS_NOT_AVAILABLE

        raise KitaruFeatureNotAvailableError(DEPLOYMENTS_NOT_AVAILABLE)


KitaruClient.__module__ = "kitaru.client"
