"""Group commit for :class:`~kitaru_langgraph.KitaruCheckpointSaver`.

LangGraph saves each finished task's writes (``put_writes``) and, when the step ends, the next
checkpoint (``put``) from concurrent threads, and it does not wait for the writes before
saving the checkpoint. One writer commits at a time (on SQLite a second one would busy-wait
for the lock), and it commits every batch queued by then in one transaction: each batch still
commits all or nothing, and its caller returns only once it is durable. To let a step's
writes and its checkpoint share one commit (one fsync instead of two), writes wait up to
:data:`LINGER` seconds for a checkpoint to be queued, and a checkpoint waits as long for
writes still being prepared (``put_writes`` calls that began before it).

Documents can also be *attached* to a task's writes (``klg.wrap`` attaches a finished node's
document), and the committer remembers which tasks' writes are durable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from kitaru.backend import DocumentRecord

__all__ = ["LINGER", "GroupCommit"]

#: How long a task's writes wait for the step's checkpoint to share their commit (seconds).
LINGER = 0.003
_REMEMBERED = 20_000


class _Batch:
    """The documents of one ``write`` call."""

    __slots__ = ("checkpoint", "docs", "done", "error", "task_id")

    def __init__(
        self, docs: list[DocumentRecord], *, checkpoint: bool, task_id: str | None
    ) -> None:
        self.docs = docs
        self.checkpoint = checkpoint
        self.task_id = task_id
        self.done = False
        self.error: BaseException | None = None


class GroupCommit:
    """Commits batches of documents with ``put`` (one transaction per call), grouped."""

    def __init__(self, put: Callable[[list[DocumentRecord]], None]) -> None:
        self._put = put
        self._lock = threading.Lock()  # held by the one committing writer
        self._queued = threading.Condition()  # guards everything below
        self._queue: list[_Batch] = []
        self._preparing = 0  # writes announced with begin_writes, not written yet
        self._durable: set[str] = set()  # tasks whose ordinary writes were committed
        self._attached: dict[str, list[DocumentRecord]] = {}

    def begin_writes(self) -> None:
        """A task's writes are being prepared: a checkpoint queued meanwhile waits for them.
        Every call is matched by one :meth:`write` (not a checkpoint) or :meth:`cancel`."""
        with self._queued:
            self._preparing += 1

    def cancel(self) -> None:
        """The prepared writes turned out to be nothing to write."""
        with self._queued:
            self._preparing -= 1
            self._queued.notify_all()

    def write(
        self, docs: list[DocumentRecord], *, checkpoint: bool = False, task_id: str | None = None
    ) -> None:
        """Commit ``docs`` atomically (with documents attached to ``task_id``, the task
        whose ordinary writes they are); return once they are durable."""
        mine = _Batch(docs, checkpoint=checkpoint, task_id=task_id)
        with self._queued:
            if task_id is not None:
                docs.extend(self._attached.pop(task_id, ()))
            self._queue.append(mine)
            if not checkpoint:
                self._preparing -= 1
            self._queued.notify_all()
            if checkpoint:
                self._queued.wait_for(lambda: mine.done or self._preparing <= 0, LINGER)
            else:
                self._queued.wait_for(
                    lambda: mine.done or any(b.checkpoint for b in self._queue), LINGER
                )
        if not mine.done:
            with self._lock:
                if not mine.done:
                    self._commit_queue()
        if mine.error is not None:
            raise mine.error

    def _commit_queue(self) -> None:
        with self._queued:
            group, self._queue = self._queue, []
        try:
            self._put([d for b in group for d in b.docs])
            for batch in group:
                if batch.task_id is not None:
                    self.mark_durable(batch.task_id)
        except BaseException as error:
            for batch in group:
                batch.error = error
            raise
        finally:
            with self._queued:
                for batch in group:
                    batch.done = True
                self._queued.notify_all()

    def mark_durable(self, task_id: str) -> None:
        """Remember that the ordinary writes of ``task_id`` are committed."""
        with self._queued:
            if len(self._durable) >= _REMEMBERED:
                self._durable.clear()  # a wrapper still waiting records at the pass's end
            self._durable.add(task_id)

    def durable(self, task_id: str) -> bool:
        """Whether the ordinary writes of ``task_id`` are committed (as far as remembered)."""
        return task_id in self._durable

    def attach(self, task_id: str, docs: Sequence[DocumentRecord]) -> bool:
        """Put ``docs`` into the commit of ``task_id``'s ordinary writes, unless those are
        committed or being committed; say whether they will go with them."""
        with self._queued:
            for batch in self._queue:
                if batch.task_id == task_id:
                    batch.docs.extend(docs)
                    return True
            if task_id in self._durable or len(self._attached) >= _REMEMBERED:
                return False
            self._attached.setdefault(task_id, []).extend(docs)
            return True

    def detach(self, task_id: str) -> list[DocumentRecord] | None:
        """The documents attached to ``task_id`` that no commit took (None if one did)."""
        with self._queued:
            return self._attached.pop(task_id, None)
