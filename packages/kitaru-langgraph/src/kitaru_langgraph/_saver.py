"""``KitaruCheckpointSaver``: a LangGraph checkpointer whose data lives in Kitaru's journal.

Everything goes through the backend's *document* operations, so the saver works on every
backend (memory, SQLite, PostgreSQL) with no tables of its own. Four kinds of documents, each
in its own namespace (``langgraph``, ``langgraph.writes``, ``langgraph.values``,
``langgraph.blobs``); each key starts with its kind, and thread ids and namespaces are
percent-quoted so ``/`` separates key parts unambiguously::

    c/<thread>/<ns>/<checkpoint_id>                 the checkpoint: small values inline
    w/<thread>/<ns>/<checkpoint_id>/<task_id>/<idx> one pending write
    v/<thread>/<ns>/<channel>/<version>             one channel value at one version
    x/<sha256>                                      one content-addressed blob

A channel value whose serialized form is at most 512 bytes is kept in the checkpoint document;
the checkpoint names the others (``refs``). Such a value is stored once per ``(channel,
version)``, only when its version changes (as LangGraph's PostgreSQL saver does). A *list*
value (a message list) is stored element by element: each element is a content-addressed blob
and the value document lists the blob hashes, so a message list growing by two messages per
turn stores each message once instead of re-storing the whole list in every checkpoint. A
blob larger than ``artifact_threshold`` bytes goes to the artifact store (``runtime.encode``),
content-addressed there as well.

Reads go through the backend's document reads; writes go through a group commit
(:mod:`._commit`), so a step's writes and its checkpoint share one transaction. Copying,
pruning and deleting runs are in :mod:`._threads`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kitaru.backend import DocumentRecord
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from kitaru_langgraph._commit import GroupCommit

if TYPE_CHECKING:
    from kitaru.runtime import Runtime

__all__ = ["KitaruCheckpointSaver"]

NAMESPACE = "langgraph"
_Docs = list[DocumentRecord]  # (``list`` is also a method of the saver)
_CACHE_ENTRIES = 20_000
#: Serialized channel values up to this size are kept in the checkpoint document itself.
_INLINE_BYTES = 512
#: How many channel lists the saver remembers (see ``_dump_value``).
_LIST_SLOTS = 256


def _q(part: str) -> str:
    return quote(part, safe="")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _array_header(n: int) -> bytes:
    """The msgpack header of an array of ``n`` elements."""
    if n < 16:
        return bytes([0x90 | n])
    if n < 1 << 16:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


class KitaruCheckpointSaver(BaseCheckpointSaver[str]):
    """A LangGraph checkpointer (sync and async) backed by the Kitaru journal.

    Args:
        runtime: the Kitaru runtime whose backend and artifact store hold the data; default
            the current runtime (``kitaru.runtime.current_runtime()``), looked up on first use.
        namespace: the document namespace (one per independent checkpoint store).
        artifact_threshold: blobs larger than this many bytes go to the artifact store.
        serde: LangGraph serializer (default ``JsonPlusSerializer``).
    """

    def __init__(
        self,
        *,
        runtime: Runtime | None = None,
        namespace: str = NAMESPACE,
        artifact_threshold: int = 64 * 1024,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self._runtime = runtime
        self.namespace = namespace
        #: one document namespace per kind, so listing checkpoints never scans blobs
        self.namespaces = {
            "c": namespace,
            "w": f"{namespace}.writes",
            "v": f"{namespace}.values",
            "x": f"{namespace}.blobs",
        }
        self.artifact_threshold = artifact_threshold
        self._stored: set[str] = set()  # blob hashes known to be stored (immutable)
        self._blob_cache: dict[str, tuple[str, bytes]] = {}
        self._commits = GroupCommit(lambda docs: self.runtime.backend.put_documents(docs))
        # (thread, ns, channel) -> the channel's last list stored or loaded, and its hashes
        self._lists: dict[tuple[str, str, str], tuple[tuple[Any, ...], tuple[str, ...]]] = {}
        self._values: set[str] = set()  # channel-value keys this saver wrote (immutable)
        # JsonPlusSerializer's "msgpack" blobs are plain msgpack (see _load_value).
        self._msgpack = isinstance(self.serde, JsonPlusSerializer)

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from kitaru.runtime import current_runtime

            self._runtime = current_runtime()
        return self._runtime

    def _doc(self, key: str, value: Any) -> DocumentRecord:
        return DocumentRecord(
            namespace=self.namespaces[key[0]], key=key, value=value, created_at=datetime.now(UTC)
        )

    @staticmethod
    def _cfg(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
            }
        }

    def get_next_version(self, current: str | None, channel: None) -> str:
        """String versions that sort as they grow (as ``InMemorySaver`` makes them)."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    def writes_durable(self, task_id: str) -> bool:
        """Whether this saver has committed ordinary writes of task ``task_id`` (recently:
        the answer may turn false again for old tasks). ``klg.wrap`` records a finished node
        as a call only once its writes are durable, so a recorded node never runs again."""
        return self._commits.durable(task_id)

    def attach(self, task_id: str, docs: Sequence[DocumentRecord]) -> bool:
        """Commit ``docs`` in the same transaction as the ordinary writes of task
        ``task_id``, if those are not being committed yet; say whether they will be.

        ``klg.wrap`` attaches a finished node's document to the node's writes this way: one
        commit instead of two, and the writes are never durable without it. Unless the
        writes turn out to be committed (:meth:`writes_durable`), the caller takes the
        documents back with :meth:`detach` and, if it gets them, writes them itself.
        """
        return self._commits.attach(task_id, docs)

    def detach(self, task_id: str) -> list[DocumentRecord] | None:
        """The documents attached to task ``task_id`` that no commit took (None if one did)."""
        return self._commits.detach(task_id)

    # -- blobs and channel values ----------------------------------------------------------------

    def _cache(self, sha: str, blob: tuple[str, bytes]) -> None:
        if len(self._blob_cache) >= _CACHE_ENTRIES:  # blobs are immutable: dropping is safe
            self._blob_cache.clear()
        self._blob_cache[sha] = blob

    def _put_blob(self, typ: str, data: bytes, docs: list[DocumentRecord]) -> str:
        sha = hashlib.sha256(typ.encode() + b"\0" + data).hexdigest()
        if sha not in self._stored:
            value: dict[str, Any] = {"t": typ}
            if len(data) > self.artifact_threshold:
                from kitaru.durable import payload_to_json

                value["payload"] = payload_to_json(self.runtime.encode(data))
            else:
                value["b64"] = _b64(data)
            docs.append(self._doc(f"x/{sha}", value))
            self._cache(sha, (typ, data))
        return sha

    def _get_blob(self, sha: str) -> tuple[str, bytes]:
        hit = self._blob_cache.get(sha)
        if hit is not None:
            return hit
        doc = self.runtime.backend.get_document(self.namespaces["x"], f"x/{sha}")
        if doc is None:
            raise LookupError(f"LangGraph blob {sha} is missing from the journal")
        value = doc.value
        if "payload" in value:
            from kitaru.durable import payload_from_json

            data = self.runtime.decode(payload_from_json(value["payload"]))
        else:
            data = base64.b64decode(value["b64"])
        out = (value["t"], bytes(data))
        self._cache(sha, out)
        self._stored.add(sha)
        return out

    def _dump_value(
        self, value: Any, docs: list[DocumentRecord], slot: tuple[str, str, str] | None = None
    ) -> dict[str, Any]:
        """The stored form of ``value``; blobs not stored yet are added to ``docs``.

        A list's items are serialized one by one. For a channel (``slot``) the items that
        are the very objects of the channel's previous list (a message list grows by
        appending) reuse their blob hash instead of being serialized again: LangGraph state
        is not mutated in place, so an object already stored still has that content.
        """
        if type(value) is not list:
            return {"blob": self._put_blob(*self.serde.dumps_typed(value), docs)}
        before, hashes = self._lists.get(slot, ((), ())) if slot else ((), ())
        shas: list[str] = []
        for i, item in enumerate(value):
            if i < len(before) and before[i] is item and hashes[i] in self._stored:
                shas.append(hashes[i])
            else:
                shas.append(self._put_blob(*self.serde.dumps_typed(item), docs))
        if slot:
            self._remember_list(slot, value, shas)
        return {"items": shas}

    def _remember_list(self, slot: tuple[str, str, str], value: list[Any], shas: list[str]) -> None:
        if len(self._lists) >= _LIST_SLOTS:
            self._lists.clear()
        self._lists[slot] = (tuple(value), tuple(shas))

    def _load_value(self, stored: dict[str, Any], slot: tuple[str, str, str] | None = None) -> Any:
        if "items" not in stored:
            return self.serde.loads_typed(self._get_blob(stored["blob"]))
        shas = stored["items"]
        blobs = [self._get_blob(sha) for sha in shas]
        if self._msgpack and all(typ == "msgpack" for typ, _ in blobs):
            # Each blob is one msgpack object, so behind an array header they are one
            # msgpack array: decoded in one call, as a list stored whole would be.
            data = _array_header(len(blobs)) + b"".join(data for _, data in blobs)
            value = self.serde.loads_typed(("msgpack", data))
        else:
            value = [self.serde.loads_typed(blob) for blob in blobs]
        if slot and type(value) is list and len(value) == len(shas):
            self._remember_list(slot, value, shas)
        return value

    # -- documents -> tuples ---------------------------------------------------------------------

    def _tuple(
        self, thread_id: str, ns: str, checkpoint_id: str, value: Any, *, latest: bool = False
    ) -> CheckpointTuple:
        backend = self.runtime.backend
        checkpoint: Checkpoint = self.serde.loads_typed(
            (value["type"], base64.b64decode(value["checkpoint"]))
        )
        channel_values: dict[str, Any] = {}
        base = f"v/{_q(thread_id)}/{_q(ns)}/"
        refs: dict[str, str] | None = value.get("refs")
        if refs is None:  # written before values were inlined: look every channel up
            refs = {c: str(v) for c, v in checkpoint["channel_versions"].items()}
        for channel, stored in (value.get("inline") or {}).items():
            channel_values[channel] = self.serde.loads_typed(
                (stored["t"], base64.b64decode(stored["b64"]))
            )
        for channel, version in refs.items():
            doc = backend.get_document(self.namespaces["v"], f"{base}{_q(channel)}/{_q(version)}")
            if doc is not None:
                slot = (thread_id, ns, channel) if latest else None
                channel_values[channel] = self._load_value(doc.value, slot)
        checkpoint["channel_values"] = channel_values
        prefix = f"w/{_q(thread_id)}/{_q(ns)}/{_q(checkpoint_id)}/"
        writes = [d.value for d in backend.list_documents(self.namespaces["w"], prefix=prefix)]
        writes.sort(key=lambda w: (w["task_path"], w["task_id"], w["idx"]))
        parent = value.get("parent")
        return CheckpointTuple(
            config=self._cfg(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=self.serde.loads_typed((value["mtype"], base64.b64decode(value["metadata"]))),
            parent_config=self._cfg(thread_id, ns, parent) if parent else None,
            pending_writes=[
                (w["task_id"], w["channel"], self._load_value(w["value"])) for w in writes
            ],
        )

    # -- the sync API ----------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, else the latest of its thread and namespace."""
        c = config["configurable"]
        thread_id, ns = str(c["thread_id"]), c.get("checkpoint_ns", "")
        prefix = f"c/{_q(thread_id)}/{_q(ns)}/"
        backend = self.runtime.backend
        if checkpoint_id := get_checkpoint_id(config):
            doc = backend.get_document(self.namespaces["c"], prefix + _q(checkpoint_id))
        else:
            docs = backend.list_documents(
                self.namespaces["c"], prefix=prefix, limit=1, descending=True
            )
            doc = docs[0] if docs else None
        if doc is None:
            return None
        return self._tuple(thread_id, ns, doc.value["id"], doc.value, latest=True)

    def latest_metadata(self, config: RunnableConfig) -> dict[str, Any] | None:
        """The JSON metadata of the latest checkpoint of ``config``'s thread and namespace
        (None if it has none), without loading the checkpoint: one point read."""
        c = config["configurable"]
        prefix = f"c/{_q(str(c['thread_id']))}/{_q(c.get('checkpoint_ns', ''))}/"
        docs = self.runtime.backend.list_documents(
            self.namespaces["c"], prefix=prefix, limit=1, descending=True
        )
        return dict(docs[0].value["meta"]) if docs else None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first (by checkpoint id), filtered by metadata equality."""
        prefix = "c/"
        thread_id: str | None = None
        ns: str | None = None
        checkpoint_id: str | None = None
        if config:
            c = config["configurable"]
            if c.get("thread_id") is not None:
                thread_id = str(c["thread_id"])
                prefix += _q(thread_id) + "/"
                ns = c.get("checkpoint_ns")
                if ns is not None:
                    prefix += _q(ns) + "/"
            checkpoint_id = get_checkpoint_id(config)
        before_id = get_checkpoint_id(before) if before else None
        docs = self.runtime.backend.list_documents(self.namespaces["c"], prefix=prefix)
        rows = [d.value for d in docs]
        rows.sort(key=lambda v: v["id"], reverse=True)
        count = 0
        for row in rows:
            if checkpoint_id is not None and row["id"] != checkpoint_id:
                continue
            if before_id is not None and row["id"] >= before_id:
                continue
            if filter and not all(row["meta"].get(k) == v for k, v in filter.items()):
                continue
            if limit is not None and count >= limit:
                break
            count += 1
            yield self._tuple(row["thread_id"], row["ns"], row["id"], row)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` (values of changed channels only) in one atomic write."""
        c = config["configurable"]
        thread_id, ns = str(c["thread_id"]), c.get("checkpoint_ns", "")
        backend = self.runtime.backend
        docs: list[DocumentRecord] = []
        base = f"v/{_q(thread_id)}/{_q(ns)}/"
        versions = checkpoint["channel_versions"]
        inline: dict[str, Any] = {}
        refs: dict[str, str] = {}
        for channel, value in checkpoint["channel_values"].items():
            if channel not in versions:
                continue
            version = str(versions[channel])
            key = f"{base}{_q(channel)}/{_q(version)}"
            known = channel not in new_versions and key in self._values
            if type(value) is not list and not known:
                typ, data = self.serde.dumps_typed(value)
                if len(data) <= _INLINE_BYTES:  # small: kept in the checkpoint document
                    inline[channel] = {"t": typ, "b64": _b64(data)}
                    continue
                stored: dict[str, Any] | None = {"blob": self._put_blob(typ, data, docs)}
            else:
                stored = None
            refs[channel] = version
            if known or (
                channel not in new_versions
                and backend.get_document(self.namespaces["v"], key) is not None
            ):
                continue
            stored = stored or self._dump_value(value, docs, (thread_id, ns, channel))
            docs.append(self._doc(key, stored))
        bare = {**checkpoint, "channel_values": {}}
        typ, blob = self.serde.dumps_typed(bare)
        meta = get_checkpoint_metadata(config, metadata)
        mtype, mblob = self.serde.dumps_typed(meta)
        doc_value = {
            "thread_id": thread_id,
            "ns": ns,
            "id": checkpoint["id"],
            "parent": c.get("checkpoint_id"),
            "type": typ,
            "checkpoint": _b64(blob),
            "mtype": mtype,
            "metadata": _b64(mblob),
            "meta": _json_meta(meta),
            "inline": inline,
            "refs": refs,
        }
        docs.append(self._doc(f"c/{_q(thread_id)}/{_q(ns)}/{_q(checkpoint['id'])}", doc_value))
        self._commits.write(docs, checkpoint=True)
        self._mark_stored(docs)
        if len(self._values) >= _CACHE_ENTRIES:
            self._values.clear()
        self._values.update(d.key for d in docs if d.key.startswith("v/"))
        return self._cfg(thread_id, ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes: special channels upsert, ordinary writes insert once."""
        c = config["configurable"]
        thread_id, ns = str(c["thread_id"]), c.get("checkpoint_ns", "")
        prefix = f"w/{_q(thread_id)}/{_q(ns)}/{_q(c['checkpoint_id'])}/{_q(task_id)}/"
        backend = self.runtime.backend
        docs: list[DocumentRecord] = []
        self._commits.begin_writes()
        try:
            regular = self._put_writes(backend, docs, writes, task_id, task_path, prefix)
        except BaseException:
            self._commits.cancel()
            raise
        task = task_id if regular else None  # (an interrupt or error does not finish a task)
        if docs:
            self._commits.write(docs, task_id=task)
            self._mark_stored(docs)
        else:  # every write was stored before
            self._commits.cancel()
            if task is not None:
                self._commits.mark_durable(task)

    def _put_writes(
        self,
        backend: Any,
        docs: _Docs,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
        prefix: str,
    ) -> bool:
        """Add the new writes to ``docs``; say whether the task made ordinary writes."""
        indexed = [(WRITES_IDX_MAP.get(ch, i), ch, value) for i, (ch, value) in enumerate(writes)]
        existing: set[str] = set()
        if any(idx >= 0 for idx, _, _ in indexed):  # ordinary writes are insert-once
            listed = backend.list_documents(self.namespaces["w"], prefix=prefix)
            existing = {d.key for d in listed}
        for idx, channel, value in indexed:
            key = f"{prefix}{idx}"
            if idx >= 0 and key in existing:
                continue
            stored = self._dump_value(value, docs)
            docs.append(
                self._doc(
                    key,
                    {
                        "task_id": task_id,
                        "task_path": task_path,
                        "idx": idx,
                        "channel": channel,
                        "value": stored,
                    },
                )
            )
        return any(idx >= 0 for idx, _, _ in indexed)

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, write and channel value of ``thread_id`` (all namespaces).

        Content-addressed blobs may be shared with other threads and are kept.
        """
        backend = self.runtime.backend
        self._forget_values()
        for kind in ("c", "w", "v"):
            backend.delete_documents(self.namespaces[kind], prefix=f"{kind}/{_q(str(thread_id))}/")

    def _mark_stored(self, docs: Sequence[DocumentRecord]) -> None:
        """Remember the blobs of ``docs``, just committed (forgetting is always safe: a blob
        not known to be stored is written again, the same content under the same key)."""
        if len(self._stored) >= 5 * _CACHE_ENTRIES:
            self._stored.clear()
        self._stored.update(d.key[2:] for d in docs if d.key.startswith("x/"))

    def _forget_values(self) -> None:
        """Drop what the saver remembers of stored channel values (after deletions)."""
        self._values.clear()
        self._lists.clear()

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, write and channel value of a thread to another (one
        commit; blobs are shared, not copied)."""
        from kitaru_langgraph._threads import copy_documents

        copy_documents(self, str(source_thread_id), str(target_thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) made by the runs ``run_ids``."""
        from kitaru_langgraph._threads import delete_for_runs

        delete_for_runs(self, run_ids)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only the latest checkpoint per namespace (``keep_latest``), or delete the
        threads (``delete``); channel values no checkpoint refers to any more go too."""
        from kitaru_langgraph._threads import prune

        prune(self, thread_ids, strategy)

    # -- the async API: the backend contract is sync, so run it on a worker thread -----------------

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async :meth:`copy_thread`."""
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Async :meth:`delete_for_runs`."""
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Async :meth:`prune`."""
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async :meth:`get_tuple`."""
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async :meth:`list`."""
        rows = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for row in rows:
            yield row

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async :meth:`put`."""
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async :meth:`put_writes`."""
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async :meth:`delete_thread`."""
        await asyncio.to_thread(self.delete_thread, thread_id)


def _json_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-native part of the metadata, kept in the clear for ``list(filter=...)``."""
    import json

    out: dict[str, Any] = {}
    for k, v in meta.items():
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out
