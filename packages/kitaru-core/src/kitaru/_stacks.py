"""Stacks: named places to run flows, each of a stack type contributed by a plugin
(``kitaru_register_stack_types``; core ships ``local``). The built-in stack ``default`` (type
``local``) always exists. Stacks and the active stack live in the user config file."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitaru import _userconfig
from kitaru._clock import utcnow
from kitaru.errors import KitaruStateError, KitaruUsageError

__all__ = [
    "StackInfo",
    "create_stack",
    "current_stack",
    "delete_stack",
    "list_stacks",
    "use_stack",
]

DEFAULT = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, kw_only=True)
class StackInfo:
    """A stack as the SDK, CLI and MCP show it."""

    id: str
    name: str
    is_active: bool
    type: str = "local"
    is_managed: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


StackInfo.__module__ = "kitaru"


def _stored(*, tolerant: bool = False) -> dict[str, dict[str, Any]]:
    try:
        stacks = _userconfig.section("stacks", {}) or {}
    except KitaruUsageError:
        if not tolerant:
            raise
        return {}  # a writer recovers a corrupt file (see _userconfig.update)
    if not isinstance(stacks, dict):
        raise KitaruUsageError(f"'stacks' in {_userconfig.path()} must be an object.")
    return stacks


def _active_name(stacks: Mapping[str, Any], *, tolerant: bool = False) -> str:
    try:
        name = _userconfig.section("active_stack")
    except KitaruUsageError:
        if not tolerant:
            raise
        return DEFAULT
    return name if isinstance(name, str) and (name == DEFAULT or name in stacks) else DEFAULT


def _info(name: str, data: Mapping[str, Any], active: str) -> StackInfo:
    return StackInfo(
        id=str(data.get("id", name)),
        name=name,
        is_active=name == active,
        type=str(data.get("type", "local")),
        is_managed=bool(data.get("managed", False)),
        labels=dict(data.get("labels") or {}),
    )


def _all(*, tolerant: bool = False) -> dict[str, StackInfo]:
    stacks = _stored(tolerant=tolerant)
    active = _active_name(stacks, tolerant=tolerant)
    out = {DEFAULT: _info(DEFAULT, {"id": DEFAULT, "type": "local"}, active)}
    for name, data in sorted(stacks.items()):
        out[name] = _info(name, data, active)
    return out


def list_stacks() -> list[StackInfo]:
    """Every stack; exactly one has ``is_active=True``."""
    return list(_all().values())


def _find(name_or_id: Any) -> StackInfo:
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("Give a stack name or id.")
    key = name_or_id.strip()
    stacks = _all()
    by_id = [s for s in stacks.values() if s.id == key]
    if by_id:
        return by_id[0]
    if key in stacks:
        return stacks[key]
    raise KitaruUsageError(f"Unknown stack '{key}'. Available stacks: {', '.join(stacks)}.")


def current_stack() -> StackInfo:
    """The active stack."""
    return next(s for s in _all().values() if s.is_active)


def use_stack(name_or_id: str) -> StackInfo:
    """Make a stack the active one (persisted in the user config file)."""
    stack = _find(name_or_id)
    _userconfig.update("active_stack", lambda _old: stack.name)
    return _all()[stack.name]


def _stack_types() -> dict[str, Any]:
    """Installed stack types, from the runtime in scope if there is one, else from the plugin
    manager (creating a stack must not open the journal: a corrupt config file naming it is
    recovered by the write that follows)."""
    from kitaru._runtime import _current

    runtime = _current.get()
    if runtime is not None:
        return runtime.stack_types()
    from kitaru.plugins import collect

    return collect("kitaru_register_stack_types", what="stack type")


def create_stack(
    name: str,
    *,
    type: str = "local",
    activate: bool = True,
    labels: Mapping[str, str] | None = None,
) -> StackInfo:
    """Create a stack of an installed stack type (``local`` unless a plugin adds more)."""
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise KitaruUsageError(
            f"Invalid stack name {name!r}: use letters, digits, '_', '-' and '.', starting "
            "with a letter or digit."
        )
    name = name.strip()
    types = _stack_types()
    if type not in types:
        raise KitaruUsageError(
            f"Stack type '{type}' is not installed. Installed stack types: "
            f"{', '.join(sorted(types))}."
        )
    if labels is not None and (
        not isinstance(labels, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    ):
        raise KitaruUsageError("labels must map strings to strings.")
    if name in _all(tolerant=True):
        raise KitaruStateError(f"A stack named '{name}' already exists.")
    record = {
        "id": str(uuid.uuid4()),
        "type": type,
        "managed": True,
        "labels": {**dict(labels or {}), "kitaru.managed": "true"},
        "created_at": utcnow().isoformat(),
    }
    _userconfig.update("stacks", lambda old: {**(old or {}), name: record})
    if activate:
        return use_stack(name)
    return _all()[name]


def delete_stack(name_or_id: str, *, recursive: bool = False, force: bool = False) -> None:
    """Delete a stack. The active stack needs ``force=True`` (``default`` becomes active);
    the built-in ``default`` stack cannot be deleted. ``recursive`` is accepted for
    compatibility (local stacks own no components)."""
    stack = _find(name_or_id)
    if stack.name == DEFAULT:
        raise KitaruStateError("The built-in 'default' stack cannot be deleted.")
    if stack.is_active and not force:
        raise KitaruStateError(
            f"Stack '{stack.name}' is active. Use another stack first, or pass force=True "
            "(the 'default' stack becomes active)."
        )
    if stack.is_active:
        _userconfig.update("active_stack", lambda _old: DEFAULT)
    _userconfig.update(
        "stacks", lambda old: {k: v for k, v in (old or {}).items() if k != stack.name} or None
    )


def active_stack_name() -> str:
    return current_stack().name


def validate_stack_name(name: str) -> str:
    return _find(name).name


def stack_type_of(name: str) -> str:
    return _find(name).type
