"""The parts of Kitaru core this server needs that core does not (or did not) export publicly.

Every import of a private core module lives here, so that when core exposes these names
publicly only this file changes. Imports are local to each function.

Stacks: the public stack API (``kitaru.list_stacks``, ``current_stack``, ``create_stack``,
``delete_stack``) is used when core has it. A core without it has only the built-in stack
``default`` (type ``local``), and stack management is reported as not available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_STACK = "default"


def config_dir() -> Path:
    """The Kitaru config directory (``KITARU_CONFIG_PATH`` or the platform default)."""
    from kitaru.runtime import config_dir as find

    return find()


@dataclass(frozen=True, kw_only=True)
class Stack:
    id: str
    name: str
    is_active: bool
    is_managed: bool
    type: str


def list_stacks() -> list[Stack]:
    """Every stack, exactly one of them active."""
    import kitaru

    public = getattr(kitaru, "list_stacks", None)
    if public is not None:
        return [
            Stack(
                id=str(s.id),
                name=s.name,
                is_active=bool(s.is_active),
                is_managed=bool(getattr(s, "is_managed", False)),
                type=str(getattr(s, "type", "local")),
            )
            for s in public()
        ]
    return [
        Stack(id=DEFAULT_STACK, name=DEFAULT_STACK, is_active=True, is_managed=False, type="local")
    ]


def active_stack() -> Stack:
    stacks = list_stacks()
    return next((s for s in stacks if s.is_active), stacks[0])


def stack_management() -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """``(create_stack, delete_stack)`` when core supports managing stacks, else ``None``."""
    import kitaru

    create = getattr(kitaru, "create_stack", None)
    delete = getattr(kitaru, "delete_stack", None)
    if create is None or delete is None:
        return None
    return create, delete
