"""``KitaruCheckpointSaver``: a LangGraph checkpointer whose data lives in Kitaru's journal.

Everything goes through the backend's *document* operations, so the saver works on every
backend (memory, SQLite, PostgreSQL) with no tables of its own. Four kinds of documents, each
in its own namespace (``langgraph``, ``langgraph.writes``, ``langgraph.values``,
``langgraph.blobs``); each key starts with its kind, and thread ids and namespaces are
percent-quoted so ``/`` separates key parts unambiguously::

    c/<thread>/<ns>/<checkpoint_id>                 the checkpoint, without channel values
    w/<thread>/<ns>/<checkpoint_id>/<task_id>/<idx> one pending write
    v/<thread>/<ns>/<channel>/<version>             one channel value at one version
    x/<sha256>                                      one content-addressed blob

A channel value is stored once per ``(channel, version)``, only when its version changes (as
LangGraph's PostgreSQL saver does). A *list* value (a message list) is stored element by
element: each element is a content-addressed blob and the value document lists the blob
hashes, so a message list growing by two messages per turn stores each message once instead of
re-storing the whole list in every checkpoint. A blob larger than ``artifact_threshold`` bytes
goes to the artifact store (``runtime.encode``), content-addressed there as well.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import threading
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

if TYPE_CHECKING:
    from kitaru.runtime import Runtime

__all__ = ["KitaruCheckpointSaver"]

NAMESPACE = "langgraph"
_CACHE_ENTRIES = 20_000


def _q(part: str) -> str:
    return quote(part, safe="")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


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
        self._write_lock = threading.Lock()
        self._values: set[str] = set()  # channel-value keys this saver wrote (immutable)

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

    def _write(self, docs: list[DocumentRecord]) -> None:
        # One writer at a time: LangGraph saves a checkpoint and a task's writes from
        # concurrent threads, and on SQLite two writers make one of them busy-wait.
        with self._write_lock:
            self.runtime.backend.put_documents(docs)

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

    def _dump_value(self, value: Any, docs: list[DocumentRecord]) -> dict[str, Any]:
        if type(value) is list:
            return {"items": [self._put_blob(*self.serde.dumps_typed(v), docs) for v in value]}
        return {"blob": self._put_blob(*self.serde.dumps_typed(value), docs)}

    def _load_value(self, stored: dict[str, Any]) -> Any:
        if "items" in stored:
            return [self.serde.loads_typed(self._get_blob(sha)) for sha in stored["items"]]
        return self.serde.loads_typed(self._get_blob(stored["blob"]))

    # -- documents -> tuples ---------------------------------------------------------------------

    def _tuple(self, thread_id: str, ns: str, checkpoint_id: str, value: Any) -> CheckpointTuple:
        backend = self.runtime.backend
        checkpoint: Checkpoint = self.serde.loads_typed(
            (value["type"], base64.b64decode(value["checkpoint"]))
        )
        channel_values: dict[str, Any] = {}
        base = f"v/{_q(thread_id)}/{_q(ns)}/"
        for channel, version in checkpoint["channel_versions"].items():
            doc = backend.get_document(
                self.namespaces["v"], f"{base}{_q(channel)}/{_q(str(version))}"
            )
            if doc is not None:
                channel_values[channel] = self._load_value(doc.value)
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
        return self._tuple(thread_id, ns, doc.value["id"], doc.value)

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
        for channel, value in checkpoint["channel_values"].items():
            if channel not in versions:
                continue
            key = f"{base}{_q(channel)}/{_q(str(versions[channel]))}"
            if channel not in new_versions and (
                key in self._values or backend.get_document(self.namespaces["v"], key)
            ):
                continue
            docs.append(self._doc(key, self._dump_value(value, docs)))
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
        }
        docs.append(self._doc(f"c/{_q(thread_id)}/{_q(ns)}/{_q(checkpoint['id'])}", doc_value))
        self._write(docs)
        self._stored.update(d.key[2:] for d in docs if d.key.startswith("x/"))
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
        for i, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            key = f"{prefix}{idx}"
            # Ordinary writes are insert-once (a point read is cheaper than listing the task).
            if idx >= 0 and backend.get_document(self.namespaces["w"], key) is not None:
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
        if docs:
            self._write(docs)
            self._stored.update(d.key[2:] for d in docs if d.key.startswith("x/"))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, write and channel value of ``thread_id`` (all namespaces).

        Content-addressed blobs may be shared with other threads and are kept.
        """
        backend = self.runtime.backend
        self._values.clear()
        for kind in ("c", "w", "v"):
            backend.delete_documents(self.namespaces[kind], prefix=f"{kind}/{_q(str(thread_id))}/")

    # -- the async API: the backend contract is sync, so run it on a worker thread -----------------

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
