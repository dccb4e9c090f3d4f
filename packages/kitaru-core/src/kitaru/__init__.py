"""Kitaru: durable execution for Python AI agents."""

from typing import TYPE_CHECKING, Any

from kitaru._checkpoint import checkpoint
from kitaru._config import KitaruConfig, configure
from kitaru._connect import connect
from kitaru._flow import FlowHandle, flow
from kitaru._llm import llm
from kitaru._metadata import load, log, save
from kitaru._stacks import (
    StackInfo,
    create_stack,
    current_stack,
    delete_stack,
    list_stacks,
    use_stack,
)
from kitaru._wait import wait
from kitaru.client import KitaruClient
from kitaru.errors import (
    FailureOrigin,
    KitaruBackendError,
    KitaruContextError,
    KitaruDivergenceError,
    KitaruError,
    KitaruExecutionError,
    KitaruFeatureNotAvailableError,
    KitaruLogRetrievalError,
    KitaruRuntimeError,
    KitaruStateError,
    KitaruUsageError,
    KitaruUserCodeError,
    KitaruWaitValidationError,
)
from kitaru.plugins import hookimpl

if TYPE_CHECKING:
    from kitaru._image import ImageSettings

__all__ = [
    "FailureOrigin",
    "FlowHandle",
    "ImageSettings",
    "KitaruBackendError",
    "KitaruClient",
    "KitaruConfig",
    "KitaruContextError",
    "KitaruDivergenceError",
    "KitaruError",
    "KitaruExecutionError",
    "KitaruFeatureNotAvailableError",
    "KitaruLogRetrievalError",
    "KitaruRuntimeError",
    "KitaruStateError",
    "KitaruUsageError",
    "KitaruUserCodeError",
    "KitaruWaitValidationError",
    "StackInfo",
    "checkpoint",
    "configure",
    "connect",
    "create_stack",
    "current_stack",
    "delete_stack",
    "flow",
    "hookimpl",
    "list_stacks",
    "llm",
    "load",
    "log",
    "save",
    "use_stack",
    "wait",
]

for _name in ("checkpoint", "configure", "connect", "flow", "load", "log", "save", "wait",
              "FlowHandle", "KitaruConfig", "create_stack", "current_stack", "delete_stack",
              "list_stacks", "use_stack", "llm"):
    globals()[_name].__module__ = "kitaru"
del _name


def __getattr__(name: str) -> Any:
    # ImageSettings is a pydantic model; importing pydantic costs more than all of the rest
    # of ``import kitaru``, so it loads on first use (programs that never touch images and
    # every ``kitaru`` command start faster).
    if name == "ImageSettings":
        from kitaru._image import ImageSettings

        return ImageSettings
    raise AttributeError(f"module 'kitaru' has no attribute {name!r}")
