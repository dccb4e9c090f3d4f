"""Turning exceptions into journaled failures with an origin."""

from __future__ import annotations

import traceback as tb

from kitaru._logcapture import redact
from kitaru.backend import FailureRecord
from kitaru.errors import (
    FailureOrigin,
    KitaruContextError,
    KitaruRuntimeError,
    KitaruUsageError,
)


def failure_from(exc: BaseException, *, origin: FailureOrigin | None = None) -> FailureRecord:
    """The journaled failure for ``exc``.

    ``origin`` defaults to ``runtime`` for Kitaru's runtime errors, else ``user_code``. User
    code that misused Kitaru's API (a :class:`KitaruContextError` such as ``wait()`` inside a
    ``@checkpoint``, or a :class:`KitaruUsageError`) is a ``usage`` failure even where the
    caller says ``user_code``: rerunning the same code cannot help, so ``retries=`` skips it
    (a manual retry after fixing the code runs the fix).
    """
    if origin in (None, FailureOrigin.USER_CODE) and isinstance(
        exc, KitaruContextError | KitaruUsageError
    ):
        origin = FailureOrigin.USAGE
    if origin is None:
        origin = (
            FailureOrigin.RUNTIME
            if isinstance(exc, KitaruRuntimeError)
            else (FailureOrigin.USER_CODE)
        )
    exc_type = type(exc)
    name = exc_type.__qualname__
    if exc_type.__module__ not in ("builtins", "__main__"):
        name = f"{exc_type.__module__}.{name}"
    text = redact(str(exc))  # never journal a secret llm() used (e.g. echoed by a provider)
    return FailureRecord(
        message=f"{exc_type.__qualname__}: {text}" if text else exc_type.__qualname__,
        exception_type=name,
        traceback=redact("".join(tb.format_exception(exc))),
        origin=origin,
    )
