"""The journal contract: the :class:`Backend` ABC and the records that cross it.

A backend is the single transactional store of record for executions, checkpoint calls,
attempts, waits, artifacts (their metadata; payload bytes live inline or in an
:class:`~kitaru.artifacts.ArtifactStore`), metadata and runtime logs.

Rules every backend keeps (the conformance suite in ``kitaru-testing`` checks them):

* **Fencing.** Every write made by a runner carries the execution's ``epoch``. A runner gets an
  epoch from :meth:`Backend.acquire_lease`; a write with any other epoch raises
  :class:`FencingError` and changes nothing. So a runner that lost its lease (a "zombie") can
  never overwrite the journal of the runner that replaced it.
* **Idempotent commits.** A checkpoint call is keyed by ``(exec_id, invocation_id)``; saving a
  completed call twice keeps the first.
* **Compare-and-set waits.** :meth:`Backend.resolve_wait` succeeds for exactly one caller.
* **Atomicity.** Each method is one transaction: it happens completely or not at all.
* **Records are values.** Records are frozen; a backend returns new records, never shared state.
  Datetimes are timezone-aware (returned as UTC). Mapping fields (``spec``, ``metadata``,
  ``replay_plan``, ``schema``, wait values) hold JSON-native data; tuples inside them come back
  as lists.
* **One execution per write.** Records passed with an ``exec_id`` argument carry that same
  ``exec_id``.
* **Nothing runs in a finished execution.** A runner journals a long checkpoint call as
  ``running`` while it runs (the call and its attempt), then saves its final state under the
  same keys. When an execution becomes completed, failed or cancelled (:meth:`Backend.finish`,
  :meth:`~Backend.mark_lost`, :meth:`~Backend.request_cancel`, an aborted wait), its calls and
  attempts still ``running`` become ``failed`` in the same transaction, with
  :func:`ended_failure` and ``ended_at`` set.

The contract is synchronous. Backends are selected by URL scheme through the
``kitaru_register_backends`` hook.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from kitaru._merge import merge_metadata
from kitaru.errors import FailureOrigin, KitaruStateError

__all__ = [
    "ArtifactRecord",
    "AttemptRecord",
    "Backend",
    "CallRecord",
    "CallState",
    "DocumentRecord",
    "Capability",
    "ExecutionNotFoundError",
    "ExecutionRecord",
    "ExecutionState",
    "FailureRecord",
    "FencingError",
    "LeaseConflictError",
    "LeaseRecord",
    "LogRecord",
    "NotFoundError",
    "Payload",
    "SecretRecord",
    "SourceRef",
    "WaitNotPendingError",
    "WaitRecord",
    "WaitResolution",
    "WaitState",
    "ended_failure",
    "merge_metadata",
]


class ExecutionState(enum.StrEnum):
    """Stored lifecycle state of an execution.

    ``pending``: created or released for a restart, no runner holds it yet.
    ``running``: a runner holds the lease. ``waiting``: suspended at an unresolved wait, no
    runner. ``completed`` / ``failed`` / ``cancelled``: finished.
    """

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (ExecutionState.COMPLETED, ExecutionState.FAILED, ExecutionState.CANCELLED)


class CallState(enum.StrEnum):
    """State of one checkpoint call (or one of its attempts)."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class WaitState(enum.StrEnum):
    PENDING = "pending"
    RESOLVED = "resolved"
    ABORTED = "aborted"


class Capability(enum.StrEnum):
    """Optional features a backend declares in :attr:`Backend.capabilities`."""

    #: The journal is visible to other processes (so detached workers can continue runs and
    #: several processes may write at once).
    CROSS_PROCESS = "cross_process"
    #: The journal is visible to other machines.
    CROSS_HOST = "cross_host"


class NotFoundError(KitaruStateError, LookupError):
    """A record that was asked for does not exist."""


class ExecutionNotFoundError(NotFoundError):
    def __init__(self, exec_id: str) -> None:
        super().__init__(f"Execution '{exec_id}' was not found.", exec_id=exec_id)


class FencingError(KitaruStateError):
    """A runner wrote with an epoch that is no longer the execution's current epoch."""


class LeaseConflictError(KitaruStateError):
    """The execution cannot be leased: another runner holds it, or its state forbids it."""


class WaitNotPendingError(KitaruStateError):
    """The wait was already resolved or aborted (compare-and-set lost)."""


@dataclass(frozen=True, kw_only=True)
class Payload:
    """A serialized value: inline bytes or a URI in the artifact store, never both."""

    serializer: str
    type_ref: str | None = None
    inline: bytes | None = None
    uri: str | None = None
    size: int = 0
    sha256: str = ""

    def __post_init__(self) -> None:
        if (self.inline is None) == (self.uri is None):
            raise ValueError("Payload needs exactly one of inline or uri")


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    """Where a flow object can be re-imported from by another process.

    ``module`` is an importable module name, or ``__main__`` for a script, in which case
    ``file`` is the script's absolute path. ``sys_path`` is a folder to put first on
    ``sys.path`` (the script's folder, or the working directory of the submitting process).
    """

    module: str
    qualname: str
    file: str | None = None
    sys_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class FailureRecord:
    message: str
    exception_type: str | None = None
    traceback: str | None = None
    origin: FailureOrigin = FailureOrigin.UNKNOWN


@dataclass(frozen=True, kw_only=True)
class LeaseRecord:
    owner: str
    host: str
    pid: int
    heartbeat_at: datetime
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class ExecutionRecord:
    exec_id: str
    flow_name: str
    source: SourceRef
    inputs: Payload | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    stack: str = "local"
    state: ExecutionState = ExecutionState.PENDING
    status_reason: str | None = None
    failure: FailureRecord | None = None
    result_artifact_id: str | None = None
    original_exec_id: str | None = None
    #: JSON plan written by replay: ``{"reuse": {invocation_id: artifact_id | None},
    #: "overrides": {invocation_id: artifact_id}, "source_calls": {invocation_id: call_id}}``.
    replay_plan: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    epoch: int = 0
    lease: LeaseRecord | None = None
    cancel_requested: bool = False
    #: Flow-level round: 1 for the first run, +1 for each flow-level retry, retry or resume.
    round: int = 0


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One checkpoint invocation of an execution, keyed by ``(exec_id, invocation_id)``."""

    exec_id: str
    invocation_id: str
    seq: int
    name: str
    call_id: str
    checkpoint_type: str | None = None
    state: CallState = CallState.COMPLETED
    started_at: datetime
    ended_at: datetime | None = None
    output_artifact_id: str | None = None
    cache_key: str | None = None
    #: ``"<exec_id>/<invocation_id>"`` of the call whose output was reused, if any.
    cached_from: str | None = None
    overridden: bool = False
    failure: FailureRecord | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    parent_invocation_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AttemptRecord:
    """One attempt of a checkpoint call, or (with ``invocation_id=None``) one flow round."""

    exec_id: str
    attempt_id: str
    invocation_id: str | None
    number: int
    state: CallState
    started_at: datetime
    ended_at: datetime | None = None
    failure: FailureRecord | None = None


@dataclass(frozen=True, kw_only=True)
class WaitRecord:
    exec_id: str
    wait_id: str
    name: str
    schema: Mapping[str, Any] | None = None
    question: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    state: WaitState = WaitState.PENDING
    #: The resolved value as JSON-native data (``None`` while pending).
    value: Any = None
    created_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class WaitResolution:
    """Result of :meth:`Backend.resolve_wait`."""

    wait: WaitRecord
    execution: ExecutionRecord
    #: True when this resolution moved a suspended execution back to ``pending``: the caller
    #: must now submit it to a runner. Exactly one resolver ever sees True per suspension.
    should_continue: bool


@dataclass(frozen=True, kw_only=True)
class ArtifactRecord:
    artifact_id: str
    exec_id: str
    name: str
    payload: Payload
    #: ``"step_output"`` for checkpoint return values, ``"manual"`` for save(),
    #: ``"flow_output"`` / ``"flow_input"`` / ``"override"`` for engine-made artifacts,
    #: ``"event"`` for child events journaled by adapters (internal: not shown or counted).
    save_type: str
    invocation_id: str | None = None
    kind: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class DocumentRecord:
    """A JSON document that adapters keep in the journal (LangGraph checkpoints, agent
    sessions). Keyed by ``(namespace, key)``; keys sort as plain strings."""

    namespace: str
    key: str
    value: Any
    exec_id: str | None = None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class SecretRecord:
    """A named set of ``KEY=value`` pairs (credentials for ``llm()`` and user code)."""

    secret_id: str
    name: str
    values: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class LogRecord:
    exec_id: str
    message: str
    timestamp: datetime
    level: str = "INFO"
    #: ``"step"`` for lines inside a checkpoint, ``"runner"`` for the flow body and engine.
    source: str = "step"
    invocation_id: str | None = None
    stream: str | None = None
    module: str | None = None
    filename: str | None = None
    lineno: int | None = None


def ended_failure(
    *, failure: FailureRecord | None, status_reason: str | None, state: ExecutionState
) -> FailureRecord:
    """The failure given to calls and attempts still ``running`` when their execution finished
    in ``state``: the execution's ``failure``, else its ``status_reason`` (origin ``runtime``)."""
    if failure is not None:
        return failure
    message = status_reason or f"The execution ended as {state.value} while this was running."
    return FailureRecord(message=message, origin=FailureOrigin.RUNTIME)


class Backend(ABC):
    """The journal contract. Subclass it, declare :attr:`capabilities`, register a URL scheme.

    All methods are synchronous and thread-safe; each is a single transaction. Methods that a
    runner calls take ``epoch`` and raise :class:`FencingError` (changing nothing) when it is
    not the execution's current epoch. Lookups of unknown executions raise
    :class:`ExecutionNotFoundError`.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    # -- executions ---------------------------------------------------------------------

    @abstractmethod
    def create_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        """Insert a new execution.

        Pre: no execution with ``record.exec_id`` exists (else :class:`KitaruStateError`).
        Post: the stored record equals ``record`` with ``epoch=0`` and no lease.
        """

    @abstractmethod
    def get_execution(self, exec_id: str) -> ExecutionRecord:
        """Return the execution, or raise :class:`ExecutionNotFoundError`."""

    @abstractmethod
    def list_executions(
        self,
        *,
        flow_name: str | None = None,
        states: Sequence[ExecutionState] | None = None,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        """Executions newest first (by ``created_at``, then ``exec_id``), optionally filtered."""

    @abstractmethod
    def find_execution_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Ids of executions starting with ``prefix`` (at most ``limit``), sorted."""

    # -- leases and segments -------------------------------------------------------------

    @abstractmethod
    def acquire_lease(
        self, exec_id: str, *, owner: str, host: str, pid: int, lease_seconds: float
    ) -> ExecutionRecord:
        """Take the execution for one segment.

        Pre: state is ``pending``. Otherwise raise :class:`LeaseConflictError` and change
        nothing (so of several runners racing for one execution exactly one wins).
        Post: state ``running``, ``epoch`` incremented by one, a lease for ``owner`` expiring
        ``lease_seconds`` from now, ``round`` incremented, ``cancel_requested`` kept,
        ``started_at`` set if it was unset. Returns the new record.
        """

    @abstractmethod
    def heartbeat(self, exec_id: str, epoch: int, *, lease_seconds: float) -> bool:
        """Extend the lease; return whether cancellation was requested. Fenced."""

    @abstractmethod
    def finish(
        self,
        exec_id: str,
        epoch: int,
        *,
        state: ExecutionState,
        status_reason: str | None = None,
        failure: FailureRecord | None = None,
        result_artifact_id: str | None = None,
    ) -> ExecutionRecord:
        """End the segment in a finished state (completed, failed or cancelled). Fenced.

        Post: lease cleared, ``ended_at`` set, ``cancel_requested`` cleared; calls and
        attempts still ``running`` are ``failed`` (:func:`ended_failure`).
        """

    @abstractmethod
    def suspend(self, exec_id: str, epoch: int) -> bool:
        """End the segment as ``waiting`` if the execution still has a pending wait. Fenced.

        Returns True (state ``waiting``, lease cleared) when a pending wait exists; returns
        False and changes nothing when every wait is resolved, so the runner carries on. This
        check-and-set is what makes a concurrent :meth:`resolve_wait` never strand a run.
        """

    @abstractmethod
    def mark_lost(self, exec_id: str, epoch: int, *, failure: FailureRecord) -> bool:
        """Fail an execution whose runner is gone.

        If the state is ``running`` with exactly this ``epoch``: set ``failed`` with
        ``failure``, clear the lease, fail the calls and attempts still ``running`` with the
        same ``failure`` (so a killed attempt stays in its call's history) and return True.
        Otherwise change nothing and return False (someone else already moved it on). Never
        raises :class:`FencingError`.
        """

    @abstractmethod
    def restart(self, exec_id: str, *, from_states: Sequence[ExecutionState]) -> ExecutionRecord:
        """Move a finished or suspended execution back to ``pending`` for a new segment.

        Pre: the state is in ``from_states`` (else :class:`KitaruStateError` naming the
        state, nothing changed). Post: ``pending``, failure/status_reason/ended_at cleared,
        ``cancel_requested`` False.
        """

    @abstractmethod
    def request_cancel(self, exec_id: str) -> ExecutionRecord:
        """Cancel the execution.

        ``pending`` or ``waiting``: becomes ``cancelled`` at once (pending waits aborted,
        ``running`` calls and attempts failed with :func:`ended_failure`).
        ``running``: ``cancel_requested`` is set; the runner stops at its next boundary.
        Finished: :class:`KitaruStateError`, nothing changed.
        """

    # -- checkpoint calls ----------------------------------------------------------------

    @abstractmethod
    def save_call(
        self,
        exec_id: str,
        epoch: int,
        call: CallRecord,
        *,
        attempts: Sequence[AttemptRecord] = (),
        artifacts: Sequence[ArtifactRecord] = (),
        sync: bool = True,
    ) -> bool:
        """Upsert a call with its new attempts and artifacts, atomically. Fenced.

        Keyed by ``(exec_id, invocation_id)``. If a *completed* call with that key exists,
        nothing is written (idempotent commit). Attempts are keyed by ``attempt_id`` and
        artifacts by ``artifact_id``; existing ones are left as they are, except an attempt
        stored as ``running``, which the given one replaces (a running attempt ends).
        ``sync=False``: committed without waiting for the disk, as for
        :meth:`put_artifacts` (for calls an adapter can record again after a power loss).
        Returns whether cancellation was requested.
        """

    @abstractmethod
    def save_attempt(self, exec_id: str, epoch: int, attempt: AttemptRecord) -> None:
        """Record one attempt on its own (a failed flow round has ``invocation_id=None``).

        Idempotent by ``attempt_id``: a stored attempt is kept, unless it is ``running``
        (then this one replaces it). Fenced.
        """

    @abstractmethod
    def get_calls(self, exec_id: str) -> list[CallRecord]:
        """The execution's calls ordered by ``seq``."""

    @abstractmethod
    def get_attempts(self, exec_id: str) -> list[AttemptRecord]:
        """All attempts of the execution (calls and flow rounds), oldest first."""

    @abstractmethod
    def find_cached_call(self, cache_key: str) -> CallRecord | None:
        """The most recent *completed* call with this ``cache_key`` that has an output."""

    # -- waits ---------------------------------------------------------------------------

    @abstractmethod
    def create_wait(self, exec_id: str, epoch: int, wait: WaitRecord) -> WaitRecord:
        """Create a wait, or return the existing one with the same ``name``. Fenced.

        A ``wait_id`` already used by a wait of another name raises
        :class:`KitaruStateError` and changes nothing.

        Idempotent by ``(exec_id, name)``: a restarted segment that reaches the same wait
        gets the stored record (possibly already resolved) back.
        """

    @abstractmethod
    def get_waits(self, exec_id: str) -> list[WaitRecord]:
        """The execution's waits, oldest first."""

    @abstractmethod
    def resolve_wait(
        self, exec_id: str, wait_id: str, *, state: WaitState, value: Any = None
    ) -> WaitResolution:
        """Resolve (``resolved``) or abort (``aborted``) a pending wait: compare-and-set.

        Pre: the wait exists (else :class:`NotFoundError`) and is pending (else
        :class:`WaitNotPendingError`; nothing changed). ``value`` is JSON-native.
        Post, resolved: if the execution is ``waiting`` and no wait is pending any more, it
        becomes ``pending`` and ``should_continue`` is True. Post, aborted: a ``waiting``
        or ``pending`` execution becomes ``cancelled`` (its ``running`` calls and attempts
        failed, :func:`ended_failure`); a ``running`` one gets ``cancel_requested``.
        """

    # -- artifacts, metadata, logs -------------------------------------------------------

    @abstractmethod
    def put_artifact(self, exec_id: str, epoch: int, artifact: ArtifactRecord) -> None:
        """Record an artifact (idempotent by ``artifact_id``). Fenced."""

    def put_artifacts(
        self,
        exec_id: str,
        epoch: int,
        artifacts: Sequence[ArtifactRecord],
        *,
        sync: bool = True,
    ) -> None:
        """Record several artifacts, all or nothing (idempotent by ``artifact_id``). Fenced.

        ``sync=False`` asks for a commit that does not wait for the disk: the artifacts must
        survive a crash of the writing process as soon as this returns, but may need the
        next synced commit of the journal to survive an OS crash or power loss (commits stay
        in order, so a later synced commit makes them durable too). Used for records that
        can be redone, such as an adapter's child events: what a power loss can cost is
        running the last ones again. Backends without the distinction ignore it.

        The default calls :meth:`put_artifact` per artifact (not atomic); backends that can,
        override it with one transaction.
        """
        for artifact in artifacts:
            self.put_artifact(exec_id, epoch, artifact)

    @abstractmethod
    def get_artifact(self, artifact_id: str) -> ArtifactRecord:
        """Return the artifact, or raise :class:`NotFoundError`."""

    @abstractmethod
    def list_artifacts(self, exec_id: str) -> list[ArtifactRecord]:
        """The execution's artifacts, oldest first."""

    @abstractmethod
    def merge_metadata(self, exec_id: str, epoch: int, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into the execution-level metadata. Fenced.

        Same key again: two dicts merge key-wise (recursively), anything else is replaced.
        (Checkpoint-level metadata travels in :attr:`CallRecord.metadata` via
        :meth:`save_call`.)
        """

    @abstractmethod
    def append_logs(self, records: Sequence[LogRecord]) -> None:
        """Append runtime log lines (not fenced: losing a zombie's logs would be worse)."""

    @abstractmethod
    def get_logs(
        self,
        exec_id: str,
        *,
        invocation_id: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[LogRecord]:
        """Log lines in the order they were appended, optionally filtered, first ``limit``."""

    # -- documents (adapter state) -----------------------------------------------------------

    @abstractmethod
    def put_documents(
        self,
        documents: Sequence[DocumentRecord],
        *,
        exec_id: str | None = None,
        epoch: int | None = None,
    ) -> None:
        """Upsert documents by ``(namespace, key)``, all or nothing.

        With ``exec_id`` and ``epoch`` the write is fenced like a runner's (a stale epoch
        raises :class:`FencingError` and writes nothing). Values are JSON-native.
        """

    @abstractmethod
    def get_document(self, namespace: str, key: str) -> DocumentRecord | None:
        """The document, or None."""

    @abstractmethod
    def list_documents(
        self,
        namespace: str,
        *,
        prefix: str = "",
        start_after: str | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> list[DocumentRecord]:
        """Documents of ``namespace`` whose key starts with ``prefix`` (a plain string, no
        wildcards), ordered by key (code-point order), after (or, descending, before)
        ``start_after``, at most ``limit``."""

    @abstractmethod
    def delete_documents(self, namespace: str, *, prefix: str = "") -> int:
        """Delete the documents of ``namespace`` whose key starts with ``prefix``; return how
        many were deleted."""

    # -- secrets ----------------------------------------------------------------------------

    @abstractmethod
    def put_secret(self, secret: SecretRecord) -> SecretRecord:
        """Create the secret, or replace the values of the one with the same ``name``
        (keeping its ``secret_id`` and ``created_at``). Returns the stored record."""

    @abstractmethod
    def get_secret(self, name_or_id: str) -> SecretRecord:
        """The secret with this id, else this name; :class:`NotFoundError` if neither."""

    @abstractmethod
    def list_secrets(self) -> list[SecretRecord]:
        """Every secret, sorted by name."""

    @abstractmethod
    def delete_secret(self, name_or_id: str) -> SecretRecord:
        """Delete and return the secret (exact id, else exact name); :class:`NotFoundError`."""

    def count_children(self, exec_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """``{exec_id: (number of calls, number of artifacts)}`` for existing executions.

        Artifacts with ``save_type == "event"`` (adapters' internal child events) are not
        counted, as clients do not show them.

        Unknown ids are left out. The default asks per execution; SQL backends override it
        with one grouped query (listing 10,000 executions must stay fast).
        """
        out: dict[str, tuple[int, int]] = {}
        for exec_id in exec_ids:
            try:
                artifacts = [a for a in self.list_artifacts(exec_id) if a.save_type != "event"]
                out[exec_id] = (len(self.get_calls(exec_id)), len(artifacts))
            except ExecutionNotFoundError:
                continue
        return out

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release connections. Default: nothing to do."""
