"""``KitaruSessionStore``: the SDK's ``SessionStore`` protocol on Kitaru's journal documents.

The Claude CLI writes each session transcript to local disk and the SDK mirrors every entry
to ``options.session_store``; on ``resume=<session_id>`` the SDK loads the transcript back
from the store into a temporary config directory. Keeping the mirror in Kitaru's backend
(``put_documents`` / ``list_documents``) means a session can be resumed by any process that
reaches the same journal, after a crash or on another machine.

Layout (namespace ``claude_agent_sdk.sessions``, and ``<namespace>.meta`` for the per-key
write time; components are percent-encoded)::

    <project>/<session>/<subpath or empty>/e/<seq:012d>-<rand>   one transcript entry
    <project>/<session>/<subpath or empty>/u/<uuid>              uuid seen (dedupe)
    meta: <project>/<session>/<subpath or empty>/                {"mtime": epoch ms}
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from kitaru.backend import Backend, DocumentRecord
from kitaru.durable import current_exec_id
from kitaru.errors import KitaruUsageError

__all__ = ["NAMESPACE", "KitaruSessionStore"]

NAMESPACE = "claude_agent_sdk.sessions"


def _q(part: str) -> str:
    return quote(part, safe="")


def _base(key: Any) -> str:
    return f"{_q(key['project_key'])}/{_q(key['session_id'])}/{_q(key.get('subpath') or '')}/"


class KitaruSessionStore:
    """A ``claude_agent_sdk.SessionStore`` kept in Kitaru's journal.

    Args:
        backend: the journal to use; default: the current runtime's backend, looked up on
            every call (so one store works in and out of flows).
        namespace: the document namespace (default ``claude_agent_sdk.sessions``).

    Raises:
        KitaruUsageError: for a ``backend`` that is not a ``kitaru.backend.Backend`` or a
            ``namespace`` that is not a non-empty string.
    """

    def __init__(self, *, backend: Backend | None = None, namespace: str = NAMESPACE) -> None:
        if backend is not None and not isinstance(backend, Backend):
            raise KitaruUsageError(
                "kc.KitaruSessionStore(backend=...) must be a kitaru.backend.Backend (or None "
                f"for the current runtime's journal), got {backend!r}."
            )
        if not isinstance(namespace, str) or not namespace.strip():
            raise KitaruUsageError(
                "kc.KitaruSessionStore(namespace=...) must be a non-empty string such as "
                f"'claude_agent_sdk.sessions', got {namespace!r}."
            )
        self._backend = backend
        self.namespace = namespace
        self.meta_namespace = namespace + ".meta"
        self._lock = threading.Lock()
        self._last_mtime = 0

    def __repr__(self) -> str:
        return f"<KitaruSessionStore namespace={self.namespace!r}>"

    def _journal(self) -> Backend:
        if self._backend is not None:
            return self._backend
        from kitaru.runtime import current_runtime

        return current_runtime().backend

    def _mtime(self) -> int:
        with self._lock:
            now = max(int(time.time() * 1000), self._last_mtime + 1)
            self._last_mtime = now
            return now

    def _doc(self, key: str, value: Any) -> DocumentRecord:
        return DocumentRecord(
            namespace=self.namespace,
            key=key,
            value=value,
            exec_id=current_exec_id(),
            created_at=datetime.now(UTC),
        )

    # -- required --------------------------------------------------------------------------

    async def append(self, key: Any, entries: list[Any]) -> None:
        """Append entries in call order; an entry whose ``uuid`` was stored is skipped."""
        if not entries:
            return
        backend, base = self._journal(), _base(key)
        last = backend.list_documents(self.namespace, prefix=base + "e/", descending=True, limit=1)
        seq = int(last[0].key[len(base) + 2 :].split("-")[0]) + 1 if last else 0
        docs, seen = [], set()
        for entry in entries:
            uid = entry.get("uuid") if isinstance(entry, dict) else None
            if isinstance(uid, str):
                if uid in seen or backend.get_document(self.namespace, f"{base}u/{_q(uid)}"):
                    continue
                seen.add(uid)
                docs.append(self._doc(f"{base}u/{_q(uid)}", True))
            docs.append(self._doc(f"{base}e/{seq:012d}-{secrets.token_hex(3)}", entry))
            seq += 1
        meta = self._doc(base, {"mtime": self._mtime()})
        backend.put_documents([*docs, dataclasses.replace(meta, namespace=self.meta_namespace)])

    async def load(self, key: Any) -> list[Any] | None:
        """All entries of the transcript in append order, or None if never written."""
        backend, base = self._journal(), _base(key)
        if backend.get_document(self.meta_namespace, base) is None:
            return None
        return [d.value for d in backend.list_documents(self.namespace, prefix=base + "e/")]

    # -- optional --------------------------------------------------------------------------

    async def list_sessions(self, project_key: str) -> list[dict[str, Any]]:
        """Main transcripts of ``project_key`` with their last write time (epoch ms)."""
        prefix = _q(project_key) + "/"
        out = []
        for doc in self._journal().list_documents(self.meta_namespace, prefix=prefix):
            parts = doc.key[len(prefix) :].split("/")
            if len(parts) == 3 and parts[1] == "" and parts[2] == "":
                out.append({"session_id": unquote(parts[0]), "mtime": doc.value["mtime"]})
        return out

    async def delete(self, key: Any) -> None:
        """Delete a transcript; deleting a main transcript deletes its subkeys too."""
        if key.get("subpath"):
            prefix = _base(key)
        else:
            prefix = f"{_q(key['project_key'])}/{_q(key['session_id'])}/"
        backend = self._journal()
        backend.delete_documents(self.namespace, prefix=prefix)
        backend.delete_documents(self.meta_namespace, prefix=prefix)

    async def list_subkeys(self, key: Any) -> list[str]:
        """Subpaths (subagent transcripts) stored under a session."""
        prefix = f"{_q(key['project_key'])}/{_q(key['session_id'])}/"
        out = []
        for doc in self._journal().list_documents(self.meta_namespace, prefix=prefix):
            parts = doc.key[len(prefix) :].split("/")
            if len(parts) == 2 and parts[0] and parts[1] == "":
                out.append(unquote(parts[0]))
        return out
