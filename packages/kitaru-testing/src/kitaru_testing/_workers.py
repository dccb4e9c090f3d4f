"""Child-process entry points for the multi-process conformance tests.

They are module-level functions in an importable module so ``multiprocessing``'s ``spawn``
start method can run them in a fresh interpreter. Each child opens its own backend from the
journal URL, reports ``(index, outcome, detail)`` tuples on a queue, and never raises (an
unexpected exception is reported as outcome ``"error"``).
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from typing import Any

from kitaru.backend import (
    Backend,
    CallState,
    LeaseConflictError,
    WaitNotPendingError,
    WaitState,
)

__all__ = ["open_backend", "race_acquire_lease", "race_resolve_wait", "write_many"]


def open_backend(url: str, opener: str | None = None) -> Backend:
    """Open the journal at ``url``: with ``opener`` (``"module:function"``) if given, else
    through the ``kitaru_register_backends`` hook of a fresh plugin manager, by URL scheme."""
    if opener is not None:
        module_name, _, attribute = opener.partition(":")
        factory: Callable[[str], Backend] = getattr(importlib.import_module(module_name), attribute)
        return factory(url)
    from kitaru.plugins import build_plugin_manager, collect

    scheme = url.split("://", 1)[0].split("+", 1)[0]
    factories = collect("kitaru_register_backends", pm=build_plugin_manager(), what="backend")
    if scheme not in factories:
        raise LookupError(f"no backend registered for scheme {scheme!r} (have {sorted(factories)})")
    backend: Backend = factories[scheme](url)
    return backend


def _report_error(results: Any, index: int) -> None:
    results.put((index, "error", traceback.format_exc()))


def race_acquire_lease(
    url: str, opener: str | None, exec_id: str, index: int, start: Any, results: Any
) -> None:
    """Wait at ``start`` (a barrier), then try to lease ``exec_id``."""
    backend = None
    try:
        backend = open_backend(url, opener)
        backend.get_execution(exec_id)  # connect and check the schema before the race
        start.wait(timeout=120)
        try:
            leased = backend.acquire_lease(
                exec_id, owner=f"proc-{index}", host="host", pid=index, lease_seconds=60
            )
        except LeaseConflictError:
            results.put((index, "conflict", None))
        else:
            results.put((index, "won", leased.epoch))
    except BaseException:
        _report_error(results, index)
    finally:
        if backend is not None:
            backend.close()


def race_resolve_wait(
    url: str, opener: str | None, exec_id: str, wait_id: str, index: int, start: Any, results: Any
) -> None:
    """Wait at ``start`` (a barrier), then try to resolve the wait with ``{"by": index}``."""
    backend = None
    try:
        backend = open_backend(url, opener)
        backend.get_waits(exec_id)
        start.wait(timeout=120)
        try:
            resolution = backend.resolve_wait(
                exec_id, wait_id, state=WaitState.RESOLVED, value={"by": index}
            )
        except WaitNotPendingError:
            results.put((index, "not_pending", None))
        else:
            results.put((index, "won", resolution.should_continue))
    except BaseException:
        _report_error(results, index)
    finally:
        if backend is not None:
            backend.close()


def write_many(
    url: str,
    opener: str | None,
    exec_id: str,
    epoch: int,
    count: int,
    index: int,
    start: Any,
    results: Any,
) -> None:
    """Journal ``count`` checkpoint commits (call + attempt + artifact) and log batches."""
    from kitaru_testing._records import make_artifact, make_attempt, make_call, make_log

    backend = None
    try:
        backend = open_backend(url, opener)
        backend.get_execution(exec_id)
        start.wait(timeout=120)
        for n in range(count):
            call = make_call(exec_id, f"step_{n}", seq=n, state=CallState.COMPLETED)
            backend.save_call(
                exec_id,
                epoch,
                call,
                attempts=[make_attempt(exec_id, f"step_{n}")],
                artifacts=[make_artifact(exec_id, artifact_id=call.output_artifact_id)],
            )
            backend.append_logs(
                [make_log(exec_id, f"{index}:{n}:a"), make_log(exec_id, f"{index}:{n}:b")]
            )
        results.put((index, "done", count))
    except BaseException:
        _report_error(results, index)
    finally:
        if backend is not None:
            backend.close()
