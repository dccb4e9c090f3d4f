"""Durable control flow travels as BaseException signals so user code's ``except Exception``
cannot swallow it. Only the engine, at the flow boundary, catches them."""

from __future__ import annotations


class _KitaruSignal(BaseException):
    """Base of every engine signal."""


def signal_in(exc: BaseException) -> _KitaruSignal | None:
    """The engine signal carried by ``exc`` (itself, or inside an exception group)."""
    if isinstance(exc, _KitaruSignal):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = signal_in(inner)
            if found is not None:
                return found
    return None


class Suspend(_KitaruSignal):
    """An unresolved wait's listening window lapsed: end the segment as ``waiting``."""

    def __init__(self, wait_name: str) -> None:
        super().__init__(wait_name)
        self.wait_name = wait_name


class Cancelled(_KitaruSignal):
    """Cancellation was requested (or a wait was aborted): end the segment as ``cancelled``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeaseLost(_KitaruSignal):
    """Another runner took over this execution: stop without writing anything."""


class Diverged(_KitaruSignal):
    """The live checkpoint sequence no longer matches the recorded one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
