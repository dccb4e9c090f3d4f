"""Per-execution state of a running segment, reached through ContextVars."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kitaru.backend import CallRecord, CallState, ExecutionRecord, WaitRecord
from kitaru.errors import KitaruContextError

if TYPE_CHECKING:
    from kitaru._runtime import Runtime


@dataclass
class CheckpointScope:
    """The checkpoint call currently executing in this context."""

    flow: FlowContext
    name: str
    invocation_id: str
    call_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    llm_counter: int = 0
    #: Set for adapter-managed checkpoints (an agent run in the flow body): ``wait()`` may be
    #: called inside, and a restart replays the checkpoint's journaled child events.
    allows_waits: bool = False
    event_counts: dict[str, int] = field(default_factory=dict)
    #: How many waits of each name this call has asked for (see ``kitaru._wait``).
    wait_ordinals: dict[str, int] = field(default_factory=dict)
    #: A wait was asked inside this call (or replayed): its output is not cached.
    asked_wait: bool = False
    #: The attempt's live-progress entry (``kitaru._live.RunningCall``), once registered.
    running: Any = None
    recorded_events: dict[str, Any] | None = None
    #: Artifacts saved in this call and not yet journaled: they are committed with the next
    #: journaled event or with the call itself (one commit instead of one per save()).
    pending_artifacts: list[Any] = field(default_factory=list)

    def flush_artifacts(self) -> None:
        """Journal the pending artifacts now (before the call may be suspended)."""
        if not self.pending_artifacts:
            return
        from kitaru._signals import LeaseLost
        from kitaru.backend import FencingError

        batch = list(self.pending_artifacts)
        self.pending_artifacts.clear()  # in place: the call's commit shares this list
        try:
            self.flow.runtime.backend.put_artifacts(self.flow.exec_id, self.flow.epoch, batch)
        except FencingError:
            raise LeaseLost() from None


class FlowContext:
    """Everything one segment knows about its execution. Thread-safe where it must be."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        execution: ExecutionRecord,
        calls: list[CallRecord],
        waits: list[WaitRecord],
        cache: bool,
        default_retries: int,
        max_workers: int = 8,
    ) -> None:
        self.runtime = runtime
        self.execution = execution
        self.exec_id = execution.exec_id
        self.epoch = execution.epoch
        self.cache = cache
        self.default_retries = default_retries
        self.lock = threading.RLock()
        self.recorded_by_seq: dict[int, CallRecord] = {c.seq: c for c in calls}
        self.recorded: dict[str, CallRecord] = {c.invocation_id: c for c in calls}
        self.waits: dict[str, WaitRecord] = {w.name: w for w in waits}
        self.replay_plan: dict[str, Any] = dict(execution.replay_plan or {})
        #: The waits of the execution this one replays, name by id (read on first need).
        self.source_wait_names: dict[str, str] | None = None
        #: Child events journaled by adapters, per invocation id then event name (payloads):
        #: read from the journal once per segment, then kept up to date as events are written.
        self.journal_events: dict[str, dict[str, Any]] | None = None
        self.cancel_requested = threading.Event()
        #: When child events last asked the journal whether a cancel was requested.
        self.cancel_polled = time.monotonic()
        self.lease_lost = threading.Event()
        self.max_workers = max_workers
        from kitaru._logstore import active_exporter

        self.log_exporter = active_exporter()
        self._executor: ThreadPoolExecutor | None = None
        self.pending_futures: list[Future[Any]] = []
        self.reset_round()

    def reset_round(self) -> None:
        """Counters restart each time the flow body runs from the top."""
        with self.lock:
            self.next_seq = 0
            self.name_counts: dict[str, int] = {}
            self.explicit_ids: set[str] = set()
            self.wait_counts: dict[str, int] = {}
            self.wait_ordinals: dict[str, int] = {}
            self.live: list[str] = []
            self.llm_counter = 0

    def remember(self, call: CallRecord) -> None:
        with self.lock:
            existing = self.recorded.get(call.invocation_id)
            # A completed record is never replaced by a failed attempt of the same call.
            if (
                existing is None
                or existing.state is not CallState.COMPLETED
                or call.state is CallState.COMPLETED
            ):
                self.recorded[call.invocation_id] = call
                self.recorded_by_seq[call.seq] = call

    def executor(self) -> ThreadPoolExecutor:
        with self.lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix=f"kitaru-{self.exec_id[:8]}"
                )
            return self._executor

    def shutdown(self) -> None:
        with self.lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_flow_ctx: ContextVar[FlowContext | None] = ContextVar("kitaru_flow", default=None)
_checkpoint_ctx: ContextVar[CheckpointScope | None] = ContextVar("kitaru_checkpoint", default=None)


def current_flow() -> FlowContext | None:
    return _flow_ctx.get()


def current_checkpoint() -> CheckpointScope | None:
    return _checkpoint_ctx.get()


def require_flow(message: str) -> FlowContext:
    ctx = _flow_ctx.get()
    if ctx is None:
        raise KitaruContextError(message)
    return ctx
