"""The :class:`Runtime`: one journal backend, one artifact store, the serializers, the plugin
manager. Reached through a ContextVar, built lazily from the environment on first use."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlparse

import pluggy

from kitaru import _config
from kitaru._payloads import DEFAULT_INLINE_LIMIT, decode, encode
from kitaru.artifacts import ArtifactStore
from kitaru.backend import Backend, Capability, Payload
from kitaru.errors import KitaruPluginError, KitaruUsageError
from kitaru.plugins import collect, get_plugin_manager
from kitaru.serialization import SerializerRegistry

__all__ = ["Runtime", "current_runtime", "scoped_runtime", "use_runtime"]


def _scheme(url: str) -> str:
    scheme = urlparse(url).scheme
    return scheme.split("+", 1)[0].lower()


def not_a_url(store_url: str) -> str:
    """The error for a journal given as a file path instead of a URL."""
    path = store_url.strip()
    return (
        f"The journal {path!r} is not a URL (it has no scheme such as sqlite://). For a "
        f"SQLite journal at that path use 'sqlite:///{path}', or a postgresql+psycopg://... URL."
    )


class Runtime:
    """Everything an execution needs, explicitly: no module-level singletons."""

    def __init__(
        self,
        *,
        backend: Backend,
        artifact_store: ArtifactStore,
        serializers: SerializerRegistry | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
        store_url: str | None = None,
        artifact_uri: str | None = None,
        lease_seconds: float | None = None,
        inline_limit: int = DEFAULT_INLINE_LIMIT,
    ) -> None:
        self.backend = backend
        self.artifact_store = artifact_store
        self.plugin_manager = plugin_manager or get_plugin_manager()
        self.serializers = serializers or load_serializers(self.plugin_manager)
        self.store_url = store_url
        self.artifact_uri = artifact_uri or artifact_store.uri
        self.lease_seconds = lease_seconds if lease_seconds is not None else _config.lease_seconds()
        self.inline_limit = inline_limit
        self._stack_types: dict[str, Any] | None = None

    @classmethod
    def from_urls(
        cls,
        store_url: str,
        artifact_uri: str,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
        lease_seconds: float | None = None,
    ) -> Runtime:
        pm = plugin_manager or get_plugin_manager()
        backends = collect("kitaru_register_backends", pm=pm, what="backend")
        scheme = _scheme(store_url)
        if len(scheme) <= 1 and store_url.strip():  # a path (a drive letter is no scheme)
            raise KitaruUsageError(not_a_url(store_url))
        if scheme not in backends:
            raise KitaruUsageError(
                f"No installed backend serves '{scheme}://' (from {store_url!r}). Installed "
                f"schemes: {', '.join(sorted(backends)) or 'none'}. The SQL backend is "
                "kitaru-backend-sql (sqlite, postgresql)."
            )
        stores = collect("kitaru_register_artifact_stores", pm=pm, what="artifact store")
        art_scheme = _scheme(artifact_uri) or "file"
        if len(art_scheme) == 1:  # a Windows drive letter
            art_scheme = "file"
        if art_scheme not in stores:
            raise KitaruUsageError(
                f"No installed artifact store serves '{art_scheme}://' (from "
                f"{artifact_uri!r}). Installed: {', '.join(sorted(stores))}."
            )
        return cls(
            backend=backends[scheme](store_url),
            artifact_store=stores[art_scheme](artifact_uri),
            plugin_manager=pm,
            store_url=store_url,
            artifact_uri=artifact_uri,
            lease_seconds=lease_seconds,
        )

    @classmethod
    def from_environment(cls) -> Runtime:
        return cls.from_urls(_config.store_url(), _config.artifact_store_uri())

    @property
    def cross_process(self) -> bool:
        return Capability.CROSS_PROCESS in self.backend.capabilities

    def encode(self, value: Any) -> Payload:
        return encode(
            value,
            serializers=self.serializers,
            store=self.artifact_store,
            inline_limit=self.inline_limit,
        )

    def decode(self, payload: Payload) -> Any:
        return decode(payload, serializers=self.serializers, store=self.artifact_store)

    def stack_types(self) -> dict[str, Any]:
        if self._stack_types is None:
            self._stack_types = collect(
                "kitaru_register_stack_types", pm=self.plugin_manager, what="stack type"
            )
        return self._stack_types

    def worker_env(self) -> dict[str, str]:
        """Environment that makes a child process open this same runtime."""
        env = dict(os.environ)
        if self.store_url:
            env["KITARU_STORE_URL"] = self.store_url
        env["KITARU_ARTIFACT_STORE"] = self.artifact_uri
        env["KITARU_LEASE_SECONDS"] = str(self.lease_seconds)
        return env

    def close(self) -> None:
        self.backend.close()


def load_serializers(pm: pluggy.PluginManager) -> SerializerRegistry:
    registry = SerializerRegistry()
    for impl in pm.hook.kitaru_register_serializers.get_hookimpls():

        def register(serializer: Any, priority: int = 0, _owner: str = impl.plugin_name) -> None:
            try:
                registry.add(serializer, priority=priority)
            except KitaruPluginError as exc:
                raise KitaruPluginError(f"Plugin '{_owner}': {exc}") from exc

        impl.function(register=register)
    return registry


_current: ContextVar[Runtime | None] = ContextVar("kitaru_runtime", default=None)
_default: Runtime | None = None
_default_lock = threading.Lock()


def current_runtime() -> Runtime:
    """The runtime in scope, else the process default built from the environment."""
    runtime = _current.get()
    if runtime is not None:
        return runtime
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Runtime.from_environment()
    return _default


def scoped_runtime() -> Runtime | None:
    """The runtime put in scope with :func:`use_runtime`, or None. Never builds the default."""
    return _current.get()


def reset_default_runtime() -> None:
    """Forget the process default runtime (it is rebuilt from the environment on next use)."""
    global _default
    with _default_lock:
        old, _default = _default, None
    if old is not None:
        old.close()


@contextlib.contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make ``runtime`` current in this context (and in flows started from it)."""
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)
