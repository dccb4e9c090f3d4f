"""Whole-thread operations of :class:`~kitaru_langgraph.KitaruCheckpointSaver`: copying a
thread (``copy_thread``, and the fork of a replay), deleting the checkpoints of runs
(``delete_for_runs``) and pruning threads (``prune``).

They work on the saver's documents (see :mod:`._saver` for the key layout). A copy shares the
content-addressed blobs of its source; pruning also drops the channel values that no
remaining checkpoint of the thread refers to. Blobs are never deleted here: they may be shared
by other threads, and savers in other processes remember which blobs exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kitaru.backend import DocumentRecord

from kitaru_langgraph._saver import _q

if TYPE_CHECKING:
    from kitaru_langgraph._saver import KitaruCheckpointSaver

__all__ = ["copy_documents", "delete_for_runs", "prune"]

#: The checkpoint-metadata key naming the execution that made a checkpoint (see ``_nodes``).
_EXEC_KEY = "kitaru_exec"


def copy_documents(
    saver: KitaruCheckpointSaver,
    source: str,
    target: str,
    *,
    upto: str | None = None,
    with_last_writes: bool = True,
    target_exec: str | None = None,
    source_exec: str | None = None,
) -> None:
    """Copy thread ``source`` (every namespace) to ``target`` in one commit: checkpoints up
    to ``upto`` (a checkpoint id; all by default), their writes (``upto``'s only with
    ``with_last_writes``) and the channel values. ``target_exec`` re-labels the copied
    checkpoints made by ``source_exec`` (by any execution when None) as made by that
    execution; a thread named by the caller also holds other executions' checkpoints."""
    backend = saver.runtime.backend
    docs: list[DocumentRecord] = []
    for kind in ("c", "v", "w"):
        ns = saver.namespaces[kind]
        for doc in backend.list_documents(ns, prefix=f"{kind}/{_q(source)}/"):
            parts = doc.key.split("/")
            value = doc.value
            if kind == "c":
                if upto is not None and value["id"] > upto:
                    continue
                value = {**value, "thread_id": target}
                made_by = value.get("meta", {}).get(_EXEC_KEY)
                if (
                    target_exec is not None
                    and made_by is not None
                    and made_by == (source_exec or made_by)
                ):
                    value["meta"] = {**value["meta"], _EXEC_KEY: target_exec}
                    value.update(_relabelled(saver, value, target_exec))
            elif kind == "w" and upto is not None:
                checkpoint_id = parts[3]
                if checkpoint_id > upto or (checkpoint_id == upto and not with_last_writes):
                    continue
            parts[1] = _q(target)
            docs.append(
                DocumentRecord(
                    namespace=ns, key="/".join(parts), value=value, created_at=datetime.now(UTC)
                )
            )
    if docs:
        backend.put_documents(docs)


def _relabelled(saver: KitaruCheckpointSaver, value: dict[str, Any], exec_id: str) -> Any:
    """The serialized metadata of checkpoint document ``value``, made by ``exec_id``."""
    import base64

    meta = saver.serde.loads_typed((value["mtype"], base64.b64decode(value["metadata"])))
    mtype, blob = saver.serde.dumps_typed({**meta, _EXEC_KEY: exec_id})
    return {"mtype": mtype, "metadata": base64.b64encode(blob).decode()}


def delete_for_runs(saver: KitaruCheckpointSaver, run_ids: Sequence[str]) -> None:
    """Delete the checkpoints whose metadata ``run_id`` is one of ``run_ids``, with their
    writes (every thread: this scans the saver's checkpoints)."""
    wanted = {str(r) for r in run_ids}
    if not wanted:
        return
    backend = saver.runtime.backend
    doomed = [
        d
        for d in backend.list_documents(saver.namespaces["c"])
        if str(d.value["meta"].get("run_id")) in wanted
    ]
    _delete_checkpoints(saver, doomed)
    for thread in {d.value["thread_id"] for d in doomed}:
        _drop_unreferenced_values(saver, thread)


def prune(saver: KitaruCheckpointSaver, thread_ids: Sequence[str], strategy: str) -> None:
    """``keep_latest``: keep only the latest checkpoint of each namespace of each thread (and
    its writes); ``delete``: delete the threads."""
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(f"Unknown prune strategy {strategy!r}: use 'keep_latest' or 'delete'")
    backend = saver.runtime.backend
    for thread in map(str, thread_ids):
        if strategy == "delete":
            saver.delete_thread(thread)
            continue
        checkpoints = backend.list_documents(saver.namespaces["c"], prefix=f"c/{_q(thread)}/")
        latest: dict[str, str] = {}
        for doc in checkpoints:
            ns = doc.value["ns"]
            latest[ns] = max(latest.get(ns, ""), doc.value["id"])
        doomed = [d for d in checkpoints if d.value["id"] != latest[d.value["ns"]]]
        _delete_checkpoints(saver, doomed)
        _drop_unreferenced_values(saver, thread)


def _delete_exactly(backend: Any, namespace: str, key: str) -> None:
    """Delete the document ``key`` (the contract deletes by prefix: make sure it names one)."""
    if [d.key for d in backend.list_documents(namespace, prefix=key, limit=2)] == [key]:
        backend.delete_documents(namespace, prefix=key)


def _delete_checkpoints(saver: KitaruCheckpointSaver, docs: Iterable[DocumentRecord]) -> None:
    backend = saver.runtime.backend
    for doc in docs:
        thread, ns, checkpoint_id = doc.value["thread_id"], doc.value["ns"], doc.value["id"]
        backend.delete_documents(
            saver.namespaces["w"], prefix=f"w/{_q(thread)}/{_q(ns)}/{_q(checkpoint_id)}/"
        )
        _delete_exactly(backend, saver.namespaces["c"], doc.key)
    saver._forget_values()


def _drop_unreferenced_values(saver: KitaruCheckpointSaver, thread: str) -> None:
    """Delete the channel values of ``thread`` that no remaining checkpoint refers to."""
    backend = saver.runtime.backend
    referenced: set[str] = set()
    for doc in backend.list_documents(saver.namespaces["c"], prefix=f"c/{_q(thread)}/"):
        base = f"v/{_q(thread)}/{_q(doc.value['ns'])}/"
        refs = doc.value.get("refs")
        if refs is None:  # written before values were inlined: any channel may be stored
            refs = _versions(saver, doc.value)
        referenced.update(f"{base}{_q(c)}/{_q(v)}" for c, v in refs.items())
    for doc in backend.list_documents(saver.namespaces["v"], prefix=f"v/{_q(thread)}/"):
        if doc.key not in referenced:
            _delete_exactly(backend, saver.namespaces["v"], doc.key)


def _versions(saver: KitaruCheckpointSaver, value: dict[str, Any]) -> dict[str, str]:
    import base64

    checkpoint = saver.serde.loads_typed((value["type"], base64.b64decode(value["checkpoint"])))
    return {c: str(v) for c, v in checkpoint["channel_versions"].items()}
