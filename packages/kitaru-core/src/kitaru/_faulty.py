"""``FaultyBackend``: wraps any backend and injects a failure at a chosen call, so recovery is
tested deterministically in the normal suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kitaru.backend import Backend
from kitaru.errors import KitaruBackendError

__all__ = ["Fault", "FaultyBackend"]


@dataclass(kw_only=True)
class Fault:
    """Fail the ``nth`` call (1-based) of ``method``, ``before`` or ``after`` delegating.

    ``after`` models a commit that succeeded but whose acknowledgement was lost.
    """

    method: str
    nth: int = 1
    when: str = "before"
    error: Callable[[], BaseException] = lambda: KitaruBackendError("injected fault")
    fired: bool = False


class FaultyBackend(Backend):
    """Delegates every method to ``inner`` and fires the configured faults."""

    def __init__(self, inner: Backend, *faults: Fault) -> None:
        self.inner = inner
        self.faults = list(faults)
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.capabilities = inner.capabilities  # type: ignore[misc]

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.counts[method] = n = self.counts.get(method, 0) + 1
            due = [f for f in self.faults if f.method == method and f.nth == n and not f.fired]
            for fault in due:
                fault.fired = True
        for fault in due:
            if fault.when == "before":
                raise fault.error()
        result = getattr(self.inner, method)(*args, **kwargs)
        for fault in due:
            if fault.when == "after":
                raise fault.error()
        return result

    def close(self) -> None:
        self.inner.close()


def _delegate(name: str) -> Callable[..., Any]:
    def method(self: FaultyBackend, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = getattr(Backend, name).__doc__
    return method


for _name in sorted(Backend.__abstractmethods__):
    setattr(FaultyBackend, _name, _delegate(_name))
FaultyBackend.__abstractmethods__ = frozenset()
