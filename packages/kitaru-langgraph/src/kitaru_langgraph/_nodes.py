"""Completed graph nodes as ``graph_node`` calls of the execution.

Each completed task of a wrapped graph's thread is recorded twice, in this order: a *node
document* (``langgraph.nodes``, key ``<exec_id>/<thread>/<seq>``: node, invocation id, task
id, call position, summary) and then the call itself (``run_as_checkpoint``, type
``graph_node``). The wrapper attaches the document to the commit of the node's writes
(``KitaruCheckpointSaver.attach``) and records the call once those are durable, so a recorded
node is never run again. The call's commit does not wait for the disk (``sync=False``): it
survives a crash of the process at once, and after a power loss that took it the next run
records it again from the document. When the flow body runs again, :meth:`NodeRecorder.replay`
re-records the documented calls in their order (core returns the recorded outputs), so the
body's checkpoint sequence matches the journal although LangGraph does not run those nodes
again.

A crash can still fall between a node's writes and its document (when the document could not
ride with the writes: a node that wrote nothing, or writes already being committed).
:meth:`NodeRecorder.reconcile` closes that gap on restart: it walks the thread's history back
to the last recorded task and records every completed task it finds that has no node document
yet. Tasks are keyed by LangGraph's task id, so a task is recorded once however often
LangGraph reports it.

Several wrapped-graph calls may share a thread (a ``thread_id`` chosen by the caller): each
tags its checkpoints with the execution and its position among the calls on that thread in the
flow body (:data:`EXEC_KEY`, :data:`CALL_KEY`), and only its own nodes are replayed.

Subgraph nodes are named ``<parent node>:<node>`` (``outer:inner:node`` when nested), after
the nodes that run the subgraphs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import kitaru
from kitaru.backend import DocumentRecord
from kitaru.durable import run_as_checkpoint

from kitaru_langgraph._saver import _q

__all__ = ["CALL_KEY", "EXEC_KEY", "NODES_NAMESPACE", "NodeRecorder", "json_safe", "node_name"]

NODES_NAMESPACE = "langgraph.nodes"
#: Checkpoint metadata keys: the execution, and which of its wrapped-graph calls on the
#: thread (1, 2, ... in the flow body), made the checkpoint.
EXEC_KEY = "kitaru_exec"
CALL_KEY = "kitaru_call"


def json_safe(value: Any) -> Any:
    """``value`` as JSON data (anything else as its repr)."""
    return json.loads(json.dumps(value, default=repr))


def node_name(namespace: Iterable[str], name: str) -> str:
    """The call name of node ``name`` in the (sub)graph at ``namespace`` (LangGraph's
    ``("parent:<task id>", ...)``)."""
    parents = [part.split(":", 1)[0] for part in namespace]
    return ":".join([*parents, name])


class NodeRecorder:
    """Records the completed nodes of one thread of the current execution."""

    def position(self, metadata: Any) -> int | None:
        """Which call of this execution on the thread made a checkpoint with ``metadata``
        (None: not this execution: another one's, or the thread's own before the wrapper).

        A checkpoint without the keys was made on the execution's own thread by an earlier
        Kitaru, or on a thread named by the caller outside any flow.
        """
        metadata = metadata or {}
        if CALL_KEY not in metadata:
            return 1 if self.owned else None
        if metadata.get(EXEC_KEY, self.exec_id) != self.exec_id:
            return None
        return int(metadata[CALL_KEY])

    def __init__(
        self, backend: Any, thread_id: str, call: int = 1, *, owned: bool | None = None
    ) -> None:
        self.backend = backend
        self.thread_id = thread_id
        self.call = call  # the n-th wrapped-graph call on this thread in the flow body
        exec_id = kitaru.durable.current_exec_id()
        assert exec_id is not None
        self.exec_id = exec_id
        #: whether the thread is the execution's own (named by the wrapper)
        self.owned = thread_id.startswith(exec_id) if owned is None else owned
        self.prefix = f"{exec_id}/{_q(thread_id)}/"
        self.seq: int | None = None  # the next document's number (looked up on first use)
        self.task_ids: set[str] = set()
        self.assigned: set[str] = set()  # invocation ids documented, calls not yet recorded
        self._complete = True  # every node document names its task (see reconcile)

    def replay(self) -> None:
        """Re-record, in order and without running anything, the nodes this call already
        documented (in an earlier run of the flow body)."""
        docs = self.backend.list_documents(NODES_NAMESPACE, prefix=self.prefix)
        for doc in docs:
            value = doc.value
            summary = value["summary"]
            if value.get("call", 1) == self.call:
                run_as_checkpoint(
                    lambda s=summary: s,  # type: ignore[misc]
                    name=value["node"],
                    invocation_id=value["invocation_id"],
                    type="graph_node",
                    sync=False,
                )
            if value.get("task_id"):
                self.task_ids.add(value["task_id"])
            else:
                self._complete = False
        self.seq = _next_seq(docs)

    def next_id(self, node: str) -> str:
        """The invocation id the next call of ``node`` gets (``node``, ``node_2``, ...)."""
        taken = kitaru.durable.used_invocation_ids() | self.assigned
        n = 1
        while (invocation_id := node if n == 1 else f"{node}_{n}") in taken:
            n += 1
        return invocation_id

    def document(
        self, node: str, update: Any, task_id: str | None, *, invocation_id: str | None = None
    ) -> DocumentRecord | None:
        """The node document of a completed node, numbered next (None if ``task_id`` has
        one already). Its call must be recorded next, with :meth:`record_call`, once the
        document is durable."""
        if task_id is not None:
            if task_id in self.task_ids:
                return None
            self.task_ids.add(task_id)
        invocation_id = invocation_id or self.next_id(node)
        self.assigned.add(invocation_id)
        if self.seq is None:
            last = self.backend.list_documents(
                NODES_NAMESPACE, prefix=self.prefix, limit=1, descending=True
            )
            self.seq = _next_seq(last)
        summary = {"node": node, "thread_id": self.thread_id, "update": json_safe(update)}
        doc = DocumentRecord(
            namespace=NODES_NAMESPACE,
            key=f"{self.prefix}{self.seq:08d}",
            value={
                "node": node,
                "invocation_id": invocation_id,
                "task_id": task_id,
                "call": self.call,
                "summary": summary,
            },
            exec_id=self.exec_id,
            created_at=datetime.now(UTC),
        )
        self.seq += 1
        return doc

    def record_call(self, doc: DocumentRecord) -> None:
        """Record the ``graph_node`` call of a (durable) node document."""
        value = doc.value
        run_as_checkpoint(
            lambda: value["summary"],
            name=value["node"],
            invocation_id=value["invocation_id"],
            type="graph_node",
            sync=False,  # the node document is durable: a power loss re-records the call
        )
        self.assigned.discard(value["invocation_id"])

    def record(
        self, node: str, update: Any, task_id: str | None, *, invocation_id: str | None = None
    ) -> None:
        """Document and record one completed node (once per task id)."""
        doc = self.document(node, update, task_id, invocation_id=invocation_id)
        if doc is None:
            return
        # The document is written first: a crash between the two writes leaves a documented
        # call that the next run records, never a recorded call that it cannot replay.
        kitaru.durable.put_documents([doc])
        self.record_call(doc)

    def reconcile(self, history: Iterable[Any]) -> None:
        """Record the completed tasks of ``history`` (the thread's state snapshots, newest
        first) that were not documented: those whose writes, or whose step, were committed
        just before a crash. Stops at the first snapshot with a documented task."""
        if not self._complete:
            return  # documents written before tasks were named: nothing to key them by
        missing: list[list[Any]] = []
        latest = True
        for snap in history:
            call = self.position(snap.metadata)
            if call != self.call:
                if call is None or call < self.call:
                    break  # an earlier call's history
                continue
            found = False
            group = []
            for task in snap.tasks:
                if task.id in self.task_ids:
                    found = True
                elif _completed(task, latest):
                    group.append(task)
            missing.append(group)
            latest = False
            if found:
                break
        for group in reversed(missing):
            for task in group:
                self.record(task.name, task.result, task.id)


def _next_seq(docs: list[Any]) -> int:
    return int(docs[-1].key.rsplit("/", 1)[1]) + 1 if docs else 0


def _completed(task: Any, latest: bool) -> bool:
    """Whether ``task`` of a snapshot completed: its writes are saved, or (in any snapshot
    but the latest) its step ended with a checkpoint although it wrote nothing."""
    if task.name.startswith("__"):
        return False
    if task.result is not None:
        return True
    return not latest and task.error is None and not task.interrupts


def check_thread_free(recorder: NodeRecorder, metadata: Any, mid_run: Any) -> None:
    """Refuse to continue a thread named by the caller that another execution, not finished
    yet, left mid-run (its graph is running or interrupted on it): the two would interleave
    their nodes on one conversation. ``metadata`` is the thread's latest checkpoint's and
    ``mid_run()`` says whether that checkpoint has nodes to run.

    Not a lock: two executions that start on the thread at the same moment, before either
    has saved a checkpoint, are not told apart.
    """
    from kitaru import KitaruClient
    from kitaru.errors import KitaruStateError

    other = (metadata or {}).get(EXEC_KEY)
    if recorder.owned or other in (None, recorder.exec_id):
        return
    try:  # read through the client: an execution whose runner is gone reads failed
        status = KitaruClient().executions.get(other).status
    except Exception:  # (a deleted execution holds nothing)
        return
    if not status.is_finished and mid_run():
        state = status.value
        raise KitaruStateError(
            f"Thread '{recorder.thread_id}' is in use by execution '{other}' ({state}), whose "
            "graph run on it has not finished: two executions cannot continue one thread at "
            f"once. Let it finish (answer its wait), or cancel it (`kitaru executions cancel "
            f"{other}`), then run again.",
            exec_id=other,
            status=status,
        )
