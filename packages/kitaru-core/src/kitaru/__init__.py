"""Kitaru: durable execution for Python AI agents.

The public names load on first use (PEP 562): ``import kitaru.client`` or a ``kitaru``
command that only reads the journal does not pay for the engine, and ``from kitaru import
flow`` works as usual.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru._checkpoint import checkpoint
    from kitaru._config import KitaruConfig, configure
    from kitaru._connect import connect
    from kitaru._flow import FlowHandle, flow
    from kitaru._image import ImageSettings
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

#: Public name -> the module that defines it.
_HOMES = {
    "checkpoint": "kitaru._checkpoint",
    "KitaruConfig": "kitaru._config",
    "configure": "kitaru._config",
    "connect": "kitaru._connect",
    "FlowHandle": "kitaru._flow",
    "flow": "kitaru._flow",
    "ImageSettings": "kitaru._image",
    "llm": "kitaru._llm",
    "load": "kitaru._metadata",
    "log": "kitaru._metadata",
    "save": "kitaru._metadata",
    "StackInfo": "kitaru._stacks",
    "create_stack": "kitaru._stacks",
    "current_stack": "kitaru._stacks",
    "delete_stack": "kitaru._stacks",
    "list_stacks": "kitaru._stacks",
    "use_stack": "kitaru._stacks",
    "wait": "kitaru._wait",
    "KitaruClient": "kitaru.client",
    "hookimpl": "kitaru.plugins",
    **{
        name: "kitaru.errors"
        for name in __all__
        if name.startswith("Kitaru") and name.endswith("Error")
    },
    "FailureOrigin": "kitaru.errors",
}

#: Names defined in private modules whose ``__module__`` reads ``kitaru`` (repr, help, docs).
_SHOWN_AS_KITARU = frozenset(
    {
        "checkpoint",
        "configure",
        "connect",
        "flow",
        "load",
        "log",
        "save",
        "wait",
        "FlowHandle",
        "KitaruConfig",
        "create_stack",
        "current_stack",
        "delete_stack",
        "list_stacks",
        "use_stack",
        "llm",
    }
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kitaru' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    if name in _SHOWN_AS_KITARU:
        value.__module__ = "kitaru"
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
