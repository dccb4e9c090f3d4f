"""Replay of a wrapped graph: fork the source execution's thread just before a node.

``client.executions.replay(exec_id, from_="<node>")`` starts a new execution whose replay plan
names the source execution, the call to restart from and the overridden calls. When a wrapped
graph call of the new execution finds no checkpoint on its thread, :func:`fork_for_replay`
copies the source thread's history into it:

* up to (not including the writes of) the checkpoint at which the frontier node was about to
  run, when the frontier node belongs to this thread, so the graph resumes at that node;
* whole, when every node of the source thread lies before the frontier, so the call returns
  the recorded result without running anything;
* not at all otherwise (the thread lies after the frontier and runs fresh).

The node calls before the fork point are re-recorded (core reuses their outputs from the
plan). With ``overrides={"checkpoint.<node>": update}`` for the frontier node, ``update`` is
applied with ``graph.update_state(..., as_node=node)`` in place of that node's writes.
Copying is cheap: channel values are content-addressed blobs shared by both threads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kitaru.backend import DocumentRecord
from kitaru.errors import KitaruUsageError

from kitaru_langgraph._nodes import NODES_NAMESPACE, json_safe
from kitaru_langgraph._saver import KitaruCheckpointSaver, _q
from kitaru_langgraph._threads import copy_documents

__all__ = ["fork_for_replay", "later_overrides"]


def _fork_checkpoint_id(graph: Any, source_cfg: Any, node: str, occurrence: int) -> str | None:
    """The id of the checkpoint at which ``node`` was about to run for the n-th time."""
    history = list(graph.get_state_history(source_cfg))
    history.reverse()  # oldest first
    seen = 0
    for snap in history:
        if node in snap.next:
            seen += 1
            if seen == occurrence:
                return str(snap.config["configurable"]["checkpoint_id"])
    return None


def fork_for_replay(
    graph: Any, saver: KitaruCheckpointSaver, cfg: Any, plan: dict[str, Any], exec_id: str
) -> bool:
    """Fork the source thread into ``cfg``'s thread per the replay ``plan``; say if it did."""
    source_exec = plan.get("source_exec_id")
    thread_id = str(cfg["configurable"]["thread_id"])
    if not source_exec or not thread_id.startswith(exec_id):
        return False
    source_thread = source_exec + thread_id[len(exec_id) :]
    backend = saver.runtime.backend
    node_docs = backend.list_documents(
        NODES_NAMESPACE, prefix=f"{source_exec}/{_q(source_thread)}/"
    )
    if not node_docs:
        return False
    overrides: dict[str, Any] = dict(plan.get("overrides") or {})
    selectors = {plan.get("from"), *overrides}
    source_cfg: Any = {"configurable": {"thread_id": source_thread, "checkpoint_ns": ""}}
    frontier = next(
        (i for i, d in enumerate(node_docs) if d.value["invocation_id"] in selectors), None
    )
    if frontier is None:
        reuse = plan.get("reuse") or {}
        if not all(d.value["invocation_id"] in reuse for d in node_docs):
            return False  # this thread ran after the frontier: run it fresh
        latest = saver.get_tuple(source_cfg)
        if latest is None:
            return False
        copy_documents(
            saver,
            source_thread,
            thread_id,
            upto=latest.config["configurable"]["checkpoint_id"],
            target_exec=exec_id,
        )
        kept = node_docs
    else:
        node = node_docs[frontier].value["node"]
        if ":" in node:  # a subgraph's node: fork before the outer node that runs it
            node = node.split(":", 1)[0]
            while frontier and node_docs[frontier - 1].value["node"].startswith(node + ":"):
                frontier -= 1
        occurrence = 1 + sum(1 for d in node_docs[:frontier] if d.value["node"] == node)
        fork_id = _fork_checkpoint_id(graph, source_cfg, node, occurrence)
        if fork_id is None:
            return False
        copy_documents(
            saver,
            source_thread,
            thread_id,
            upto=fork_id,
            with_last_writes=False,
            target_exec=exec_id,
        )
        kept = node_docs[:frontier]
    records = [
        DocumentRecord(
            namespace=NODES_NAMESPACE,
            key=f"{exec_id}/{_q(thread_id)}/{i:08d}",
            value=d.value,
            exec_id=exec_id,
            created_at=datetime.now(UTC),
        )
        for i, d in enumerate(kept)
    ]
    if frontier is not None:
        doc = node_docs[frontier].value
        payload = overrides.get(doc["invocation_id"])
        if payload is not None and ":" not in doc["node"]:  # (outer-graph nodes only)
            from kitaru.durable import payload_from_json

            update = saver.runtime.decode(payload_from_json(payload))
            check_override(graph, doc["node"], update)
            graph.update_state(cfg, update, as_node=doc["node"])
            summary = {**doc["summary"], "update": json_safe(update)}
            records.append(
                DocumentRecord(
                    namespace=NODES_NAMESPACE,
                    key=f"{exec_id}/{_q(thread_id)}/{len(kept):08d}",
                    value={**doc, "summary": summary},
                    exec_id=exec_id,
                    created_at=datetime.now(UTC),
                )
            )
    if records:
        backend.put_documents(records)
    return True


def check_override(graph: Any, node: str, update: Any) -> None:
    """Refuse an override that names state keys the graph does not have (LangGraph would drop
    them without a word, and the replay would run as if there were no override)."""
    if not isinstance(update, dict):
        return  # LangGraph reports other shapes itself
    channels = getattr(graph, "channels", None) or {}
    keys = sorted(c for c in channels if not c.startswith(("__", "branch:")))
    unknown = sorted(k for k in update if k not in channels)
    if keys and unknown:
        raise KitaruUsageError(
            f"The override for node '{node}' sets {', '.join(map(repr, unknown))}, which the "
            f"graph's state does not have. State keys: {', '.join(keys)}."
        )


def later_overrides(
    backend: Any, plan: dict[str, Any] | None, exec_id: str, thread_id: str
) -> dict[str, str]:
    """``{invocation id: node}`` of this thread's overridden nodes that run live in the
    replay (those after the first replayed node; the fork applies the one at the frontier).

    The wrapper stops the graph before each of them and applies the override as the node's
    writes instead of running it.
    """
    overrides = (plan or {}).get("overrides") or {}
    source_exec = (plan or {}).get("source_exec_id")
    if not overrides or not source_exec or not thread_id.startswith(exec_id):
        return {}
    source_thread = source_exec + thread_id[len(exec_id) :]
    docs = backend.list_documents(NODES_NAMESPACE, prefix=f"{source_exec}/{_q(source_thread)}/")
    return {
        d.value["invocation_id"]: d.value["node"]
        for d in docs
        if d.value["invocation_id"] in overrides
    }
