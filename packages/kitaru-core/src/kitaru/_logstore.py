"""The log store: runtime logs always go to the journal; with a log store such as ``otlp``
configured they are **also** exported over OTLP/HTTP (JSON) by a background thread.

Settings, highest first: ``KITARU_LOG_STORE_BACKEND`` / ``_ENDPOINT`` / ``_API_KEY`` (blank
means unset), the user config file's ``log_store`` section (``kitaru log-store set``), the
default (``journal``). The exporter never blocks or breaks a run: its queue is bounded (the
oldest records are dropped and counted), a failed POST is counted and reported once on the
real stderr, and every log-sink flush (so every segment end) wakes it to send at once.
Nothing here runs at import: the thread starts with the first exported record.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kitaru import _userconfig
from kitaru.backend import LogRecord
from kitaru.errors import KitaruUsageError

DEFAULT_BACKEND = "journal"
#: The original Kitaru's name for its default store; accepted as a synonym of ``journal``.
LEGACY_DEFAULT = "artifact-store"
SECTION = "log_store"
SOURCE_DEFAULT = "default"
SOURCE_ENVIRONMENT = "environment"
SOURCE_FILE = "global user config"
ENV_BACKEND = "KITARU_LOG_STORE_BACKEND"
ENV_ENDPOINT = "KITARU_LOG_STORE_ENDPOINT"
ENV_API_KEY = "KITARU_LOG_STORE_API_KEY"
_BACKEND = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_QUEUE = 10_000
BATCH_SIZE = 1_000
POST_TIMEOUT = 5.0
EXIT_FLUSH_SECONDS = 3.0


@dataclass(frozen=True, kw_only=True)
class LogStoreConfig:
    """The effective log store. ``endpoint`` is None for the default (journal only)."""

    backend: str = DEFAULT_BACKEND
    endpoint: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: ``default``, ``environment`` or ``global user config``.
    source: str = SOURCE_DEFAULT

    @property
    def is_default(self) -> bool:
        return self.backend == DEFAULT_BACKEND

    @property
    def api_key_configured(self) -> bool:
        return bool(self.api_key)

    @property
    def logs_url(self) -> str | None:
        """Where records are POSTed: ``<endpoint>/v1/logs``."""
        return None if self.endpoint is None else logs_url(self.endpoint)

    def describe(self) -> dict[str, Any]:
        """JSON-able view without the API key: backend, endpoint, api_key_configured, source."""
        return {
            "backend": self.backend,
            "endpoint": self.endpoint,
            "api_key_configured": self.api_key_configured,
            "source": self.source,
        }


def logs_url(endpoint: str) -> str:
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/logs") else f"{endpoint}/v1/logs"


# -- validation ------------------------------------------------------------------------------


def validate_backend(name: Any, *, what: str = "Log store backend") -> str:
    if not isinstance(name, str) or not _BACKEND.match(name.strip()):
        raise KitaruUsageError(
            f"{what} {name!r} is not a valid name: use lower-case letters, digits, '.', '_' "
            "and '-', starting with a letter or digit."
        )
    name = name.strip()
    return DEFAULT_BACKEND if name == LEGACY_DEFAULT else name


def validate_endpoint(url: Any, *, what: str = "The log store endpoint") -> str:
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise KitaruUsageError(f"{what} must be an http:// or https:// URL, got {url!r}.")
    return text.rstrip("/")


def validate_api_key(key: Any, *, what: str = "The log store API key") -> str:
    if not isinstance(key, str) or not key.strip() or any(c in key for c in "\r\n"):
        raise KitaruUsageError(f"{what} must be a non-empty single-line string.")
    return key.strip()


# -- settings --------------------------------------------------------------------------------

_file_cache: tuple[Any, LogStoreConfig] | None = None
_cache_lock = threading.Lock()


def _from_environment() -> LogStoreConfig | None:
    backend = os.environ.get(ENV_BACKEND, "").strip()
    endpoint = os.environ.get(ENV_ENDPOINT, "").strip()
    api_key = os.environ.get(ENV_API_KEY, "").strip()
    if not (backend or endpoint or api_key):
        return None
    if not backend:
        raise KitaruUsageError(
            f"{ENV_BACKEND} is required when {ENV_ENDPOINT} or {ENV_API_KEY} is set."
        )
    backend = validate_backend(backend, what=ENV_BACKEND)
    if backend == DEFAULT_BACKEND:
        if endpoint or api_key:
            raise KitaruUsageError(
                f"{ENV_ENDPOINT} and {ENV_API_KEY} cannot be used with the default log store "
                f"('{DEFAULT_BACKEND}')."
            )
        return LogStoreConfig(source=SOURCE_ENVIRONMENT)
    if not endpoint:
        raise KitaruUsageError(
            f"{ENV_ENDPOINT} must be set (an http:// or https:// URL) for log store backend "
            f"'{backend}'."
        )
    return LogStoreConfig(
        backend=backend,
        endpoint=validate_endpoint(endpoint, what=ENV_ENDPOINT),
        api_key=validate_api_key(api_key, what=ENV_API_KEY) if api_key else None,
        source=SOURCE_ENVIRONMENT,
    )


def _from_file() -> LogStoreConfig:
    """The persisted setting (cached while the file is unchanged)."""
    global _file_cache
    file = _userconfig.path()
    try:
        st = file.stat()
        key: Any = (str(file), st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        key = (str(file), None)
    cached = _file_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    data = _userconfig.section(SECTION)
    if data is None:
        config = LogStoreConfig()
    else:
        where = f"'{SECTION}' in {file}"
        if not isinstance(data, dict):
            raise KitaruUsageError(f"{where} must be an object.")
        backend = validate_backend(data.get("backend"), what=f"{where}: backend")
        if backend == DEFAULT_BACKEND:
            config = LogStoreConfig()
        else:
            api_key = data.get("api_key")
            config = LogStoreConfig(
                backend=backend,
                endpoint=validate_endpoint(data.get("endpoint"), what=f"{where}: endpoint"),
                api_key=validate_api_key(api_key, what=f"{where}: api_key")
                if api_key is not None
                else None,
                source=SOURCE_FILE,
            )
    with _cache_lock:
        _file_cache = (key, config)
    return config


def _forget_cache() -> None:
    global _file_cache
    with _cache_lock:
        _file_cache = None


def get_log_store() -> LogStoreConfig:
    """The effective log store: environment > user config file > default (``journal``).

    Invalid environment values or a corrupt config file raise
    :class:`~kitaru.errors.KitaruUsageError` (naming the variable or the file).
    """
    return _from_environment() or _from_file()


def persisted_log_store() -> LogStoreConfig:
    """The setting saved in the user config file, ignoring the environment."""
    return _from_file()


def environment_overrides() -> bool:
    """True when ``KITARU_LOG_STORE_*`` variables decide the log store."""
    return any(os.environ.get(n, "").strip() for n in (ENV_BACKEND, ENV_ENDPOINT, ENV_API_KEY))


def set_log_store(backend: str, *, endpoint: str, api_key: str | None = None) -> LogStoreConfig:
    """Export runtime logs to ``endpoint`` (OTLP/HTTP) as well as the journal, persisted in
    the user config file. The default store cannot be "set": use :func:`reset_log_store`."""
    name = validate_backend(backend)
    if name == DEFAULT_BACKEND:
        raise KitaruUsageError(
            f"'{backend}' is the default log store and cannot be set; run `kitaru log-store "
            "reset` (or call reset_log_store()) to go back to it."
        )
    url = validate_endpoint(endpoint)
    key = validate_api_key(api_key) if api_key is not None else None
    record = {"backend": name, "endpoint": url, **({"api_key": key} if key else {})}
    _userconfig.update(SECTION, lambda _old: record)
    _forget_cache()
    return LogStoreConfig(backend=name, endpoint=url, api_key=key, source=SOURCE_FILE)


def reset_log_store() -> LogStoreConfig:
    """Forget the persisted log store: runtime logs go to the journal only (unless the
    environment says otherwise). Returns the persisted setting it replaced."""
    try:
        previous = _from_file()
    except KitaruUsageError:
        previous = LogStoreConfig()  # a corrupt file: update() recovers it
    _userconfig.update(SECTION, lambda _old: None)
    _forget_cache()
    return previous


# -- the OTLP exporter -----------------------------------------------------------------------

_SEVERITY = {
    "DEBUG": 5,
    "INFO": 9,
    "WARNING": 13,
    "WARN": 13,
    "ERROR": 17,
    "CRITICAL": 21,
    "FATAL": 21,
}


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def otlp_record(record: LogRecord) -> dict[str, Any]:
    """One journal log record as an OTLP ``LogRecord`` (JSON encoding)."""
    nanos = str(int(record.timestamp.timestamp() * 1_000_000) * 1_000)
    attributes = [_attr("kitaru.exec_id", record.exec_id), _attr("kitaru.source", record.source)]
    if record.invocation_id is not None:
        attributes.append(_attr("kitaru.checkpoint", record.invocation_id))
    for key, value in (
        ("kitaru.stream", record.stream),
        ("code.namespace", record.module),
        ("code.filepath", record.filename),
        ("code.lineno", record.lineno),
    ):
        if value is not None:
            attributes.append(_attr(key, value))
    level = (record.level or "INFO").upper()
    return {
        "timeUnixNano": nanos,
        "observedTimeUnixNano": nanos,
        "severityNumber": _SEVERITY.get(level, 9),
        "severityText": level,
        "body": {"stringValue": record.message},
        "attributes": attributes,
    }


@functools.cache
def _core_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kitaru-core")
    except PackageNotFoundError:
        return "unknown"


def otlp_payload(records: Iterable[LogRecord]) -> dict[str, Any]:
    """An OTLP/HTTP JSON export request: ``resourceLogs`` > ``scopeLogs`` > ``logRecords``."""
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [_attr("service.name", "kitaru")]},
                "scopeLogs": [
                    {
                        "scope": {"name": "kitaru", "version": _core_version()},
                        "logRecords": [otlp_record(r) for r in records],
                    }
                ],
            }
        ]
    }


class OTLPExporter:
    """Sends log records to one OTLP/HTTP endpoint from a daemon thread, in batches.

    :meth:`submit` never blocks on the network: it appends to a bounded queue (dropping the
    oldest records when full, counted in :attr:`dropped`) and wakes the thread.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        max_queue: int = MAX_QUEUE,
        batch_size: int = BATCH_SIZE,
        timeout: float = POST_TIMEOUT,
    ) -> None:
        self.url = logs_url(endpoint)
        self._api_key = api_key
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.timeout = timeout
        self.exported = 0
        self.dropped = 0
        self.failed = 0
        self.last_error: str | None = None
        self._queue: deque[LogRecord] = deque()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._warned = False

    def __repr__(self) -> str:
        return f"OTLPExporter({self.url!r})"

    @property
    def pending(self) -> int:
        """Records waiting to be sent (not counting a batch being sent)."""
        with self._lock:
            return len(self._queue)

    def submit(self, records: Sequence[LogRecord]) -> None:
        if not records:
            return
        with self._lock:
            overflow = len(self._queue) + len(records) - self.max_queue
            if overflow > 0:
                from_queue = min(overflow, len(self._queue))
                for _ in range(from_queue):
                    self._queue.popleft()
                records = records[overflow - from_queue :]
                self.dropped += overflow
            self._queue.extend(records)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="kitaru-log-export", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def flush(self, timeout: float = EXIT_FLUSH_SECONDS) -> bool:
        """Wait (at most ``timeout`` seconds) until every submitted record was sent or
        given up on. True if the queue drained in time."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    batch = [
                        self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))
                    ]
                    self._in_flight = len(batch)
                    if not batch:
                        self._idle.notify_all()
                        break
                try:
                    self._post(batch)
                finally:
                    with self._lock:
                        self._in_flight = 0
                        if not self._queue:
                            self._idle.notify_all()

    def _post(self, batch: list[LogRecord]) -> None:
        import urllib.request

        try:
            body = json.dumps(otlp_payload(batch), ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json", "User-Agent": "kitaru"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
            self.exported += len(batch)
        except Exception as exc:  # the log store must never break a run
            self.failed += len(batch)
            self.last_error = f"{type(exc).__name__}: {exc}"
            if not self._warned and sys.__stderr__ is not None:
                self._warned = True
                sys.__stderr__.write(
                    f"kitaru: could not export {len(batch)} log lines to {self.url}: "
                    f"{self.last_error} (the journal still has them; further failures are "
                    "not reported)\n"
                )


_exporters: dict[tuple[str, str | None], OTLPExporter] = {}
_exporters_lock = threading.Lock()
_warned_config = False
_atexit_registered = False


def active_exporter() -> OTLPExporter | None:
    """The exporter for the effective log store, or None (journal only). Never raises: an
    invalid setting is reported once on the real stderr and nothing is exported."""
    global _warned_config, _atexit_registered
    try:
        config = get_log_store()
    except Exception as exc:
        if not _warned_config and sys.__stderr__ is not None:
            _warned_config = True
            sys.__stderr__.write(f"kitaru: runtime logs are not exported: {exc}\n")
        return None
    if config.endpoint is None:
        return None
    key = (config.endpoint, config.api_key)
    with _exporters_lock:
        exporter = _exporters.get(key)
        if exporter is None:
            exporter = _exporters[key] = OTLPExporter(config.endpoint, api_key=config.api_key)
            if not _atexit_registered:
                atexit.register(flush)
                _atexit_registered = True
    return exporter


def flush(timeout: float = EXIT_FLUSH_SECONDS) -> bool:
    """Send what every exporter of this process still holds (at most ``timeout`` seconds in
    all). True if everything was sent or given up on in time."""
    deadline = time.monotonic() + timeout
    with _exporters_lock:
        exporters = list(_exporters.values())
    done = True
    for exporter in exporters:
        done = exporter.flush(max(0.0, deadline - time.monotonic())) and done
    return done
