"""The Kitaru exception tree.

Every error raised by Kitaru derives from :class:`KitaruError` and also from the builtin that
matches its meaning, so ``except ValueError`` keeps working for bad input::

    KitaruError(Exception)
    ├── KitaruUsageError(ValueError)              invalid input; nothing was changed
    │   └── KitaruWaitValidationError             wait input does not match the wait's schema
    ├── KitaruContextError(RuntimeError)          API used outside its valid scope
    ├── KitaruStateError(RuntimeError)            the current state forbids the operation
    ├── KitaruRuntimeError(RuntimeError)          runtime or serialization problem
    │   ├── KitaruExecutionError                  an execution ended unsuccessfully
    │   │   ├── KitaruUserCodeError               ... because user code raised
    │   │   └── KitaruDivergenceError             ... because the checkpoint sequence changed
    │   └── KitaruBackendError                    cannot talk to the journal / artifact store
    │       └── KitaruLogRetrievalError           runtime logs cannot be fetched
    ├── KitaruFeatureNotAvailableError(NotImplementedError)
    └── KitaruPluginError(RuntimeError)           a plugin failed to load or registered badly

Errors carry structured attributes (``exec_id``, ``status``, ``failure_origin``) as well as a
message, so programs never parse messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = [
    "FailureOrigin",
    "KitaruBackendError",
    "KitaruContextError",
    "KitaruDivergenceError",
    "KitaruError",
    "KitaruExecutionError",
    "KitaruFeatureNotAvailableError",
    "KitaruLogRetrievalError",
    "KitaruPluginError",
    "KitaruRuntimeError",
    "KitaruStateError",
    "KitaruUsageError",
    "KitaruUserCodeError",
    "KitaruWaitValidationError",
]


class FailureOrigin(StrEnum):
    """Where a failure came from.

    ``usage``: the code used Kitaru's API where it is not allowed (``wait()`` inside a
    ``@checkpoint``, ``save()`` in the flow body, ...). Running the same code again fails the
    same way, so ``retries=`` does not retry it; fix the code, then ``retry`` the execution
    (it re-imports the code). Reported as :class:`KitaruUserCodeError`.
    """

    USER_CODE = "user_code"
    RUNTIME = "runtime"
    BACKEND = "backend"
    DIVERGENCE = "divergence"
    USAGE = "usage"
    UNKNOWN = "unknown"


class KitaruError(Exception):
    """Root of every Kitaru error."""


class KitaruUsageError(KitaruError, ValueError):
    """Invalid input to a Kitaru API. A call that raises this changed nothing."""


class KitaruWaitValidationError(KitaruUsageError):
    """A value given to a wait does not match the wait's schema; the wait stays pending."""


class KitaruContextError(KitaruError, RuntimeError):
    """A Kitaru API was used outside the scope where it is valid (e.g. outside a flow)."""


class KitaruStateError(KitaruError, RuntimeError):
    """The current state of an execution, wait or object forbids the operation."""

    def __init__(self, message: str, *, exec_id: str | None = None, status: Any = None) -> None:
        super().__init__(message)
        self.exec_id = exec_id
        self.status = status


class KitaruRuntimeError(KitaruError, RuntimeError):
    """A runtime problem: serialization, missing artifacts, ambiguous lookups."""


class KitaruExecutionError(KitaruRuntimeError):
    """An execution ended unsuccessfully (failed or cancelled)."""

    def __init__(
        self,
        message: str,
        *,
        exec_id: str | None = None,
        status: Any = None,
        failure_origin: FailureOrigin | None = None,
    ) -> None:
        super().__init__(message)
        self.exec_id = exec_id
        self.status = status
        self.failure_origin = failure_origin


class KitaruUserCodeError(KitaruExecutionError):
    """The execution failed because user code raised."""


class KitaruDivergenceError(KitaruExecutionError):
    """The checkpoint sequence of a restarted execution no longer matches the recorded one."""


class KitaruBackendError(KitaruRuntimeError):
    """The journal or artifact store could not be reached or refused the operation."""


class KitaruLogRetrievalError(KitaruBackendError):
    """Runtime logs could not be retrieved."""


class KitaruFeatureNotAvailableError(KitaruError, NotImplementedError):
    """The feature is not available yet (or not in this installation); the message says why."""


class KitaruPluginError(KitaruError, RuntimeError):
    """A plugin failed to load or registered something invalid."""


for _cls in (
    KitaruError,
    KitaruUsageError,
    KitaruWaitValidationError,
    KitaruContextError,
    KitaruStateError,
    KitaruRuntimeError,
    KitaruExecutionError,
    KitaruUserCodeError,
    KitaruDivergenceError,
    KitaruBackendError,
    KitaruLogRetrievalError,
    KitaruFeatureNotAvailableError,
    KitaruPluginError,
    FailureOrigin,
):
    _cls.__module__ = "kitaru.errors"
