"""Stack names and their types. Until stack management lands, the only stack is ``default``
of type ``local``."""

from __future__ import annotations

from kitaru.errors import KitaruUsageError

_STACKS = {"default": "local", "local": "local"}


def validate_stack_name(name: str) -> str:
    if name not in _STACKS:
        raise KitaruUsageError(
            f"Unknown stack '{name}'. Available stacks: {', '.join(sorted(_STACKS))}."
        )
    return name


def stack_type_of(name: str) -> str:
    return _STACKS.get(name, "local")
