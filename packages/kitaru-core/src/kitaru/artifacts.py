"""The artifact store contract and the local filesystem store.

Payload bytes too large to live inline in the journal are written here, content-addressed by
sha256: identical payloads are stored once, writes are atomic (temp file, fsync, rename) and
streamed, so a large value is never held twice in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

from kitaru.errors import KitaruBackendError, KitaruUsageError

__all__ = ["ArtifactStore", "ArtifactWriter", "LocalArtifactStore"]


class ArtifactWriter(ABC):
    """A write-only binary stream that becomes one content-addressed object on commit."""

    @abstractmethod
    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append bytes."""

    @abstractmethod
    def commit(self) -> tuple[str, str, int]:
        """Make the object durable and visible; return ``(uri, sha256 hex, size)``.

        Committing bytes already stored returns the existing object's URI (stored once).
        """

    @abstractmethod
    def abort(self) -> None:
        """Discard what was written. Safe to call after commit (does nothing then)."""


class ArtifactStore(ABC):
    """Where large payloads live. Selected by URI scheme via ``kitaru_register_artifact_stores``."""

    @property
    @abstractmethod
    def uri(self) -> str:
        """The store's root URI (shown by ``kitaru status``)."""

    @abstractmethod
    def writer(self) -> ArtifactWriter:
        """Start writing a new object."""

    @abstractmethod
    def open(self, uri: str) -> IO[bytes]:
        """Open a committed object for reading (``KitaruBackendError`` if it is missing)."""

    @abstractmethod
    def exists(self, uri: str) -> bool:
        """Whether the object is stored."""


class _LocalWriter(ArtifactWriter):
    def __init__(self, store: LocalArtifactStore) -> None:
        self._store = store
        tmp_dir = store.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="w-")
        self._path = Path(name)
        self._fp: IO[bytes] | None = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        assert self._fp is not None, "writer already closed"
        self._hash.update(data)
        self._size += len(data)
        return self._fp.write(data)

    def commit(self) -> tuple[str, str, int]:
        assert self._fp is not None, "writer already closed"
        self._fp.flush()
        os.fsync(self._fp.fileno())
        self._fp.close()
        self._fp = None
        digest = self._hash.hexdigest()
        final = self._store.path_for(digest)
        if final.exists():
            self._path.unlink(missing_ok=True)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._path, final)
            _fsync_dir(final.parent)
        return self._store.uri_for(digest), digest, self._size

    def abort(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None
            self._path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalArtifactStore(ArtifactStore):
    """Objects at ``<root>/objects/<aa>/<sha256>``; URIs are ``file://`` URLs of those paths."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    @classmethod
    def from_uri(cls, uri: str) -> LocalArtifactStore:
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            path = unquote(parsed.path) if parsed.scheme == "file" else uri
            if not path:
                raise KitaruUsageError(f"Artifact store URI '{uri}' has no path.")
            return cls(path)
        raise KitaruUsageError(f"Not a local artifact store URI: '{uri}'.")

    @property
    def uri(self) -> str:
        return self.root.as_uri()

    def path_for(self, digest: str) -> Path:
        return self.root / "objects" / digest[:2] / digest

    def uri_for(self, digest: str) -> str:
        return self.path_for(digest).as_uri()

    def _path_of(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            raise KitaruBackendError(f"Artifact URI '{uri}' is not a file:// URI.")
        return Path(unquote(parsed.path))

    def writer(self) -> ArtifactWriter:
        return _LocalWriter(self)

    def open(self, uri: str) -> IO[bytes]:
        path = self._path_of(uri)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise KitaruBackendError(
                f"Artifact '{uri}' is missing from the artifact store at {self.root}."
            ) from None

    def exists(self, uri: str) -> bool:
        return self._path_of(uri).exists()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"
