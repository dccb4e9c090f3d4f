"""Replay of a wrapped graph: fork the source execution's thread just before a node.

``client.executions.replay(exec_id, from_="<node>")`` starts a new execution whose replay plan
names the source execution, the call to restart from and the overridden calls. The first
wrapped-graph call of the new execution on a thread plans a fork (:func:`plan_fork`) from the
source execution's thread and, when its thread has no checkpoint yet, applies it
(:func:`apply_fork`). The thread of the replay is never the source's:

* a thread the wrapper named (``<exec_id>``, ``<exec_id>:<n>``) maps to the same thread of the
  source execution (``<source>``, ``<source>:<n>``);
* a thread the caller named (``config={"configurable": {"thread_id": t}}``) stays the
  caller's: the replay runs on a private fork ``<replay exec_id>/<t>``
  (:func:`fork_thread`), so a replay never writes into a live conversation. Its source is
  ``t`` as the source execution left it (only the checkpoints the source made count, not
  those later executions added), or ``<source>/<t>`` when the source was a replay itself.

The fork copies the source thread's history:

* up to (not including the writes of) the checkpoint at which the frontier node was about to
  run, when the frontier node belongs to this thread, so the graph resumes at that node;
* whole (up to the source's last checkpoint), when every node of the source thread lies
  before the frontier, so the call returns the recorded result without running anything;
* up to the source's first checkpoint (not at all on a wrapper-named thread) otherwise: the
  thread lies after the frontier and runs fresh.

When the call's *input* differs from the source call's (a replay with new flow inputs), the
graph starts from that input instead: the history is copied up to the source call's input
only, and each node before the frontier gets its recorded writes applied in its place
(:attr:`ForkPlan.replacements`, ``update_state(..., as_node=node)``): like a plain checkpoint
before the replay point it does not run again and returns what it returned in the source,
while the nodes from the frontier on see the new input.

The node calls before the fork point are re-recorded (core reuses their outputs from the
plan). With ``overrides={"checkpoint.<node>": update}`` for the frontier node, ``update`` is
applied with ``graph.update_state(..., as_node=node)`` in place of that node's writes.
Copying is cheap: channel values are content-addressed blobs shared by both threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kitaru.backend import DocumentRecord
from kitaru.errors import KitaruUsageError
from langgraph.types import Command

from kitaru_langgraph._nodes import CALL_KEY, EXEC_KEY, NODES_NAMESPACE, json_safe
from kitaru_langgraph._saver import KitaruCheckpointSaver, _q
from kitaru_langgraph._threads import copy_documents

__all__ = [
    "ForkPlan",
    "Source",
    "apply_fork",
    "check_override",
    "find_source",
    "fork_thread",
    "later_overrides",
    "plan_fork",
]


def fork_thread(exec_id: str, thread_id: str) -> str:
    """The private thread on which replay ``exec_id`` runs the caller's thread ``thread_id``."""
    return f"{exec_id}/{thread_id}"


@dataclass
class Source:
    """The source execution's thread that a replayed graph call forks."""

    exec_id: str
    thread: str
    #: whether the wrapper named the thread (it then holds the source execution's calls only)
    owned: bool
    #: the source execution's node documents on the thread, in order
    docs: list[DocumentRecord]

    def made_it(self, metadata: Any) -> bool:
        """Whether the source execution made a checkpoint with ``metadata``."""
        default = self.exec_id if self.owned else None
        return (metadata or {}).get(EXEC_KEY, default) == self.exec_id


def find_source(
    saver: KitaruCheckpointSaver,
    plan: dict[str, Any],
    exec_id: str,
    thread_id: str,
    user_thread: str | None,
) -> Source | None:
    """The source of replay ``exec_id``'s thread ``thread_id`` (None: not a replay, or a
    thread the wrapper named that the source did not have)."""
    source_exec = plan.get("source_exec_id")
    if not source_exec:
        return None
    if user_thread is None:
        if not thread_id.startswith(exec_id):
            return None
        candidates = [source_exec + thread_id[len(exec_id) :]]
    else:
        candidates = [fork_thread(source_exec, user_thread), user_thread]
    backend = saver.runtime.backend
    for thread in candidates:
        docs = backend.list_documents(NODES_NAMESPACE, prefix=f"{source_exec}/{_q(thread)}/")
        cfg: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        if docs or thread == candidates[-1] or saver.latest_metadata(cfg) is not None:
            return Source(source_exec, thread, user_thread is None, docs)
    return None  # pragma: no cover - the loop always returns


@dataclass
class ForkPlan:
    """How a replayed call's thread starts (see the module docstring)."""

    #: copy the source thread's checkpoints up to this id (None: copy none)
    upto: str | None = None
    #: copy the writes of ``upto`` too
    with_last_writes: bool = True
    #: the source's node documents whose calls the replay re-records without running them
    kept: list[DocumentRecord] = field(default_factory=list)
    #: ``(node document, override payload)`` applied at the fork point
    frontier_override: tuple[dict[str, Any], Any] | None = None
    #: ``{invocation id: (node, recorded writes, subgraph node documents)}`` applied in
    #: place of nodes before the frontier when the call's input changed
    replacements: dict[str, tuple[str, Any, list[dict[str, Any]]]] = field(default_factory=dict)


def _history(graph: Any, source: Source) -> list[Any]:
    """The source execution's snapshots of its thread, oldest first."""
    cfg: Any = {"configurable": {"thread_id": source.thread, "checkpoint_ns": ""}}
    snaps = [s for s in graph.get_state_history(cfg) if source.made_it(s.metadata)]
    snaps.reverse()
    return snaps


def _parent_id(snap: Any) -> str | None:
    parent = snap.parent_config
    return str(parent["configurable"]["checkpoint_id"]) if parent else None


def _fresh(history: list[Any], source: Source) -> ForkPlan | None:
    """The thread as it was before the source execution's first checkpoint on it."""
    if source.owned or not history:
        return None
    return ForkPlan(upto=_parent_id(history[0]))


def _source_input(saver: KitaruCheckpointSaver, history: list[Any]) -> tuple[bool, Any, Any]:
    """``(found, input, snapshot)`` of the source's first call's input checkpoint."""
    for snap in history:
        meta = snap.metadata or {}
        if meta.get("source") == "input" and int(meta.get(CALL_KEY, 1)) == 1:
            tup = saver.get_tuple(snap.config)
            values = tup.checkpoint["channel_values"] if tup is not None else {}
            return "__start__" in values, values.get("__start__"), snap
    return False, None, None


def plan_fork(
    graph: Any,
    saver: KitaruCheckpointSaver,
    plan: dict[str, Any],
    source: Source,
    input: Any,
) -> ForkPlan | None:
    """Plan the fork of ``source`` for the first replayed call on a thread, given the call's
    ``input`` (None: nothing to copy; the thread starts empty)."""
    history = _history(graph, source)
    docs = source.docs
    if not docs:
        return _fresh(history, source)
    overrides: dict[str, Any] = dict(plan.get("overrides") or {})
    selectors = {plan.get("from"), *overrides}
    frontier = next((i for i, d in enumerate(docs) if d.value["invocation_id"] in selectors), None)
    if frontier is None:
        reuse = plan.get("reuse") or {}
        if not all(d.value["invocation_id"] in reuse for d in docs) or not history:
            return _fresh(history, source)  # this thread ran after the frontier: run it fresh
        return ForkPlan(upto=str(history[-1].config["configurable"]["checkpoint_id"]), kept=docs)
    # A subgraph's node: fork before the outer node that runs it; and the outer node's own
    # call comes after its subgraph's: fork before those too (they run again).
    node = docs[frontier].value["node"].split(":", 1)[0]
    while frontier and docs[frontier - 1].value["node"].startswith(node + ":"):
        frontier -= 1
    if docs[frontier].value.get("call", 1) == 1 and input is not None:
        found, old_input, input_snap = _source_input(saver, history)
        if found and not isinstance(input, Command) and not _same(saver, old_input, input):
            return _rebuild(history, docs[:frontier], input_snap)
    occurrence = 1 + sum(1 for d in docs[:frontier] if d.value["node"] == node)
    seen = 0
    fork_id = None
    for snap in history:
        if node in snap.next:
            seen += 1
            if seen == occurrence:
                fork_id = str(snap.config["configurable"]["checkpoint_id"])
                break
    if fork_id is None:
        return _fresh(history, source)
    fork = ForkPlan(upto=fork_id, with_last_writes=False, kept=docs[:frontier])
    doc = docs[frontier].value
    payload = overrides.get(doc["invocation_id"])
    if payload is not None and ":" not in doc["node"]:  # (outer-graph nodes only)
        fork.frontier_override = (doc, payload)
    return fork


def _same(saver: KitaruCheckpointSaver, old: Any, new: Any) -> bool:
    """Whether two graph inputs are the same (equal, or equal once serialized: objects
    without ``__eq__``)."""
    try:
        return bool(old == new) or saver.serde.dumps_typed(old) == saver.serde.dumps_typed(new)
    except Exception:  # (an input LangGraph's serializer cannot handle: compare by equality)
        return False


def _rebuild(history: list[Any], before: list[DocumentRecord], input_snap: Any) -> ForkPlan:
    """A fork that starts the call again from its new input, the nodes before the frontier
    replaced by their recorded writes."""
    results = {t.id: t.result for snap in history for t in snap.tasks}
    fork = ForkPlan(upto=_parent_id(input_snap))
    inner: list[dict[str, Any]] = []
    for doc in before:
        value = doc.value
        if ":" in value["node"]:
            inner.append(value)  # recorded just before its outer node's replacement
            continue
        update = results.get(value.get("task_id"))
        fork.replacements[value["invocation_id"]] = (value["node"], update or {}, inner)
        inner = []
    return fork


def apply_fork(
    graph: Any,
    saver: KitaruCheckpointSaver,
    cfg: Any,
    fork: ForkPlan,
    source: Source,
    exec_id: str,
) -> bool:
    """Copy the planned history into ``cfg``'s (empty) thread; say whether it copied any."""
    thread_id = str(cfg["configurable"]["thread_id"])
    if fork.upto is None and not fork.kept:
        return False
    if fork.upto is not None:
        copy_documents(
            saver,
            source.thread,
            thread_id,
            upto=fork.upto,
            with_last_writes=fork.with_last_writes,
            target_exec=exec_id,
            source_exec=source.exec_id,
        )
    records = [
        DocumentRecord(
            namespace=NODES_NAMESPACE,
            key=f"{exec_id}/{_q(thread_id)}/{i:08d}",
            value=d.value,
            exec_id=exec_id,
            created_at=datetime.now(UTC),
        )
        for i, d in enumerate(fork.kept)
    ]
    if fork.frontier_override is not None:
        from kitaru.durable import payload_from_json

        doc, payload = fork.frontier_override
        update = saver.runtime.decode(payload_from_json(payload))
        check_override(graph, doc["node"], update)
        graph.update_state(cfg, update, as_node=doc["node"])
        summary = {**doc["summary"], "update": json_safe(update)}
        records.append(
            DocumentRecord(
                namespace=NODES_NAMESPACE,
                key=f"{exec_id}/{_q(thread_id)}/{len(fork.kept):08d}",
                value={**doc, "summary": summary},
                exec_id=exec_id,
                created_at=datetime.now(UTC),
            )
        )
    if records:
        saver.runtime.backend.put_documents(records)
    return True


def _accepted(graph: Any) -> list[str]:
    channels = getattr(graph, "channels", None) or {}
    return sorted(c for c in channels if not c.startswith(("__", "branch:")))


def check_override(graph: Any, node: str, update: Any) -> None:
    """Refuse an override that is not a state update of the graph: not a dict, or naming state
    keys the graph does not have (LangGraph would drop them without a word, and the replay
    would run as if there were no override)."""
    keys = _accepted(graph)
    if not keys:
        return  # not a graph with named state keys (a functional ``@entrypoint``)
    if not isinstance(update, dict):
        raise KitaruUsageError(
            f"The override for node '{node}' must be a dict of state keys to values (the "
            f"node's update), got {update!r}. State keys: {', '.join(keys)}."
        )
    unknown = sorted(k for k in update if k not in keys)
    if unknown:
        raise KitaruUsageError(
            f"The override for node '{node}' sets {', '.join(map(repr, unknown))}, which the "
            f"graph's state does not have (override given: {update!r}). State keys: "
            f"{', '.join(keys)}."
        )


def later_overrides(
    saver: KitaruCheckpointSaver, plan: dict[str, Any] | None, source: Source | None
) -> dict[str, str]:
    """``{invocation id: node}`` of this thread's overridden nodes that run live in the
    replay (those after the first replayed node; the fork applies the one at the frontier).

    The wrapper stops the graph before each of them and applies the override as the node's
    writes instead of running it.
    """
    overrides = (plan or {}).get("overrides") or {}
    if not overrides or source is None:
        return {}
    return {
        d.value["invocation_id"]: d.value["node"]
        for d in source.docs
        if d.value["invocation_id"] in overrides
    }
