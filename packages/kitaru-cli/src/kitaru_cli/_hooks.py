"""Adding the CLI's hookspecs (:mod:`kitaru_cli.hookspecs`) to Kitaru's plugin manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pluggy

__all__ = ["add_hookspecs"]


def add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Add the CLI's hookspecs to ``pm`` (once)."""
    from kitaru_cli import hookspecs

    caller = getattr(pm.hook, "kitaru_register_commands", None)
    if caller is None or caller.spec is None:
        pm.add_hookspecs(hookspecs)
