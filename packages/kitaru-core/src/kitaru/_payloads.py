"""Turning values into :class:`~kitaru.backend.Payload` s and back.

Small payloads live inline in the journal; past ``inline_limit`` bytes the serializer's output
is streamed straight into the artifact store, so a large value is never held twice.
"""

from __future__ import annotations

import hashlib
import io
from typing import IO, Any

from kitaru.artifacts import ArtifactStore, ArtifactWriter
from kitaru.backend import Payload
from kitaru.serialization import JsonSerializer, SerializerRegistry

DEFAULT_INLINE_LIMIT = 64 * 1024


class _SpillingBuffer(io.RawIOBase):
    """Buffers up to ``limit`` bytes in memory, then streams everything to the artifact store."""

    def __init__(self, store: ArtifactStore, limit: int) -> None:
        self._store = store
        self._limit = limit
        self._buf = bytearray()
        self.writer: ArtifactWriter | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self.writer is None and len(self._buf) + len(view) <= self._limit:
            self._buf += view
            return len(view)
        if self.writer is None:
            self.writer = self._store.writer()
            if self._buf:
                self.writer.write(bytes(self._buf))
            self._buf = bytearray()
        self.writer.write(view)
        return len(view)

    @property
    def inline(self) -> bytes:
        return bytes(self._buf)


def encode(
    value: Any,
    *,
    serializers: SerializerRegistry,
    store: ArtifactStore,
    inline_limit: int = DEFAULT_INLINE_LIMIT,
) -> Payload:
    serializer = serializers.for_value(value)
    if type(serializer) is JsonSerializer:  # the common case, without the spilling buffer
        return _json_payload(serializer.dumps(value), store, inline_limit)
    sink = _SpillingBuffer(store, inline_limit)
    try:
        type_ref = serializer.dump(value, sink)  # type: ignore[arg-type]
    except BaseException:
        if sink.writer is not None:
            sink.writer.abort()
        raise
    if sink.writer is None:
        data = sink.inline
        return Payload(
            serializer=serializer.name,
            type_ref=type_ref,
            inline=data,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
    uri, digest, size = sink.writer.commit()
    return Payload(serializer=serializer.name, type_ref=type_ref, uri=uri, size=size, sha256=digest)


def _json_payload(data: bytes, store: ArtifactStore, inline_limit: int) -> Payload:
    if len(data) <= inline_limit:
        digest = hashlib.sha256(data).hexdigest()
        return Payload(serializer="json", inline=data, size=len(data), sha256=digest)
    writer = store.writer()
    try:
        writer.write(data)
    except BaseException:
        writer.abort()
        raise
    uri, digest, size = writer.commit()
    return Payload(serializer="json", uri=uri, size=size, sha256=digest)


def open_payload(payload: Payload, store: ArtifactStore) -> IO[bytes]:
    if payload.inline is not None:
        return io.BytesIO(payload.inline)
    assert payload.uri is not None
    return store.open(payload.uri)


def decode(payload: Payload, *, serializers: SerializerRegistry, store: ArtifactStore) -> Any:
    serializer = serializers.get(payload.serializer)
    with open_payload(payload, store) as fp:
        return serializer.load(fp, payload.type_ref)
