"""Where runtime logs go (``kitaru log-store set|show|reset``).

Runtime logs (stdout, stderr and ``logging`` inside flows and checkpoints) are always kept in
the journal (``KitaruClient().executions.logs(...)``). With a log store such as ``otlp``
configured they are **also** exported over OTLP/HTTP JSON (``POST <endpoint>/v1/logs``) by a
background thread that never blocks or breaks a run. Every backend name other than the
default ``journal`` names such an OTLP destination (``otlp``, ``datadog``, ...).

Precedence: ``KITARU_LOG_STORE_BACKEND`` / ``KITARU_LOG_STORE_ENDPOINT`` /
``KITARU_LOG_STORE_API_KEY`` > the user config file > the default.
"""

from kitaru._logstore import (
    DEFAULT_BACKEND,
    LogStoreConfig,
    environment_overrides,
    flush,
    get_log_store,
    persisted_log_store,
    reset_log_store,
    set_log_store,
)

__all__ = [
    "DEFAULT_BACKEND",
    "LogStoreConfig",
    "environment_overrides",
    "flush",
    "get_log_store",
    "persisted_log_store",
    "reset_log_store",
    "set_log_store",
]

LogStoreConfig.__module__ = "kitaru.log_store"
