"""Public read models returned by :class:`~kitaru.client.KitaruClient` (frozen, kw-only)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from kitaru._status import ExecutionStatus
from kitaru.errors import FailureOrigin

if TYPE_CHECKING:
    from kitaru.client import KitaruClient


@dataclass(frozen=True, kw_only=True)
class FailureInfo:
    message: str
    exception_type: str | None = None
    traceback: str | None = None
    origin: FailureOrigin = FailureOrigin.UNKNOWN


@dataclass(frozen=True, kw_only=True)
class PendingWait:
    wait_id: str
    name: str
    question: str | None = None
    schema: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    entered_waiting_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class WaitInfo:
    """A wait of an execution, answered or not: ``status`` is ``pending``, ``resolved`` or
    ``aborted``; ``value`` is the value stored on resolution (after conversion to the wait's
    schema, as JSON data), ``None`` otherwise; ``schema`` the JSON schema of the answer (if
    any) and ``metadata`` what the asker attached (an agent's tool call: its name and
    arguments)."""

    wait_id: str
    name: str
    status: str
    question: str | None = None
    value: Any = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    schema: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ArtifactRef:
    artifact_id: str
    name: str
    kind: str | None
    save_type: str
    producing_call: str | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    exec_id: str | None = None
    size: int | None = None
    serializer: str | None = None
    _client: KitaruClient | None = field(default=None, repr=False, compare=False)

    def load(self) -> Any:
        """Materialize the value."""
        from kitaru.client import KitaruClient

        client = self._client or KitaruClient()
        return client.artifacts.load(self.artifact_id)


@dataclass(frozen=True, kw_only=True)
class CheckpointAttempt:
    attempt_id: str
    status: ExecutionStatus
    started_at: datetime | None
    ended_at: datetime | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    failure: FailureInfo | None = None


@dataclass(frozen=True, kw_only=True)
class CheckpointCall:
    call_id: str
    name: str
    invocation_id: str
    status: ExecutionStatus
    started_at: datetime | None
    ended_at: datetime | None
    checkpoint_type: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    original_call_id: str | None = None
    parent_call_ids: tuple[str, ...] = ()
    failure: FailureInfo | None = None
    attempts: tuple[CheckpointAttempt, ...] = ()
    artifacts: tuple[ArtifactRef, ...] = ()
    cached_from: str | None = None
    overridden: bool = False


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    message: str
    level: str | None = None
    timestamp: str | None = None
    source: str | None = None
    checkpoint_name: str | None = None
    module: str | None = None
    filename: str | None = None
    lineno: int | None = None
    #: The checkpoint invocation the line came from (``work``, ``work_2``; None: flow body).
    invocation_id: str | None = None
    #: The attempt of that checkpoint invocation (1, 2, ... as in ``CheckpointCall.attempts``),
    #: or the flow round of a flow-body line, when the journal holds attempts; None otherwise.
    #: Lines carry no attempt id: a line belongs to the last attempt that started before it
    #: (the runner stamps both with the same clock).
    attempt: int | None = None


@dataclass(frozen=True, kw_only=True)
class Execution:
    exec_id: str
    flow_id: str
    flow_name: str
    status: ExecutionStatus
    started_at: datetime | None
    ended_at: datetime | None
    stack_name: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    status_reason: str | None = None
    failure: FailureInfo | None = None
    pending_wait: PendingWait | None = None
    frozen_execution_spec: Mapping[str, Any] = field(default_factory=dict)
    original_exec_id: str | None = None
    checkpoints: tuple[CheckpointCall, ...] = ()
    artifacts: tuple[ArtifactRef, ...] = ()
    attempts: tuple[CheckpointAttempt, ...] = ()
    created_at: datetime | None = None
    checkpoint_count: int | None = None
    artifact_count: int | None = None
    #: Every wait of the execution, oldest first (filled by ``executions.get``).
    waits: tuple[WaitInfo, ...] = ()
    #: A cancel was requested and the runner has not stopped yet (at its next checkpoint
    #: boundary, agent step or wait).
    cancel_requested: bool = False
    _client: KitaruClient | None = field(default=None, repr=False, compare=False)

    def _c(self) -> KitaruClient:
        from kitaru.client import KitaruClient

        return self._client or KitaruClient()

    def refresh(self) -> Execution:
        return self._c().executions.get(self.exec_id)

    def retry(self) -> Execution:
        return self._c().executions.retry(self.exec_id)

    def resume(self) -> Execution:
        return self._c().executions.resume(self.exec_id)

    def cancel(self) -> Execution:
        return self._c().executions.cancel(self.exec_id)

    def replay(
        self, *, from_: str, overrides: Mapping[str, Any] | None = None, **flow_inputs: Any
    ) -> Execution:
        return self._c().executions.replay(
            self.exec_id, from_=from_, overrides=overrides, **flow_inputs
        )

    def list_checkpoints(self) -> list[CheckpointCall]:
        return list(self.checkpoints)

    def list_artifacts(self) -> list[ArtifactRef]:
        return list(self.artifacts)


for _cls in (
    FailureInfo,
    PendingWait,
    WaitInfo,
    ArtifactRef,
    CheckpointAttempt,
    CheckpointCall,
    LogEntry,
    Execution,
):
    _cls.__module__ = "kitaru.client"


def to_jsonable(value: Any) -> Any:
    """Datetimes ISO, enums by value, dataclasses as dicts (``None`` fields and private fields
    dropped), sets sorted, tuples as lists."""
    kind = type(value)
    if kind in _PLAIN:  # exactly these types (str-valued enums are converted below)
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(
            f.name for f in dataclasses.fields(value) if not f.name.startswith("_")
        )
    if names is not None:
        out = {}
        for name in names:
            item = getattr(value, name)
            if item is None:
                continue
            out[name] = to_jsonable(item)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic models
        return to_jsonable(value.model_dump(mode="json"))
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


#: Values returned as they are (``get`` of an execution with 1,000 checkpoints converts about
#: 36,000 values, most of them strings).
_PLAIN = frozenset({str, int, float, bool, type(None)})
#: Public field names of each dataclass converted so far.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
