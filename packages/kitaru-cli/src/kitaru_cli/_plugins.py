"""``kitaru plugins``, and the CLI's own hook: plugins adding commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kitaru_cli._hooks import add_hookspecs
from kitaru_cli._output import OutputOption, session

if TYPE_CHECKING:
    import pluggy
    import typer

__all__ = ["add_hookspecs", "plugins_command", "register_plugin_commands"]


def plugins_command(output: OutputOption = "text") -> None:
    """List installed Kitaru plugins: distribution, version and the hooks they implement."""
    with session("plugins", output) as out:
        from kitaru.plugins import list_plugins

        plugins = list_plugins()
        if out.json:
            out.emit_items(
                [
                    {
                        "name": p.name,
                        "distribution": p.distribution,
                        "version": p.version,
                        "hooks": list(p.hooks),
                        "builtin": p.builtin,
                    }
                    for p in plugins
                ]
            )
            return
        out.table(
            ("Name", "Distribution", "Version", "Hooks"),
            [
                (p.name, p.distribution or "-", p.version or "-", ", ".join(p.hooks) or "-")
                for p in plugins
            ],
        )


def register_plugin_commands(app: typer.Typer, pm: pluggy.PluginManager | None = None) -> None:
    """Let every plugin add its commands to ``app`` (``kitaru_register_commands``)."""
    if pm is None:
        from kitaru.plugins import get_plugin_manager

        pm = get_plugin_manager()
    add_hookspecs(pm)
    pm.hook.kitaru_register_commands(app=app)
