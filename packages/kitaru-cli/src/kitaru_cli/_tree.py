"""The Typer command tree: the root command with its global options and the built-in
commands (plugin commands are added by :func:`kitaru_cli.app.main`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

__all__ = ["build_app"]

HELP = "Kitaru: durable execution for Python AI agents."
CONTEXT = {"help_option_names": ["-h", "--help"]}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("kitaru-core", "kitaru-cli"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "unknown"


def _root(
    ctx: typer.Context,
    show_version: Annotated[
        bool, typer.Option("--version", "-V", is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    if show_version:
        typer.echo(f"kitaru {_version()}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def _quiet_flags(command: Any, ctx: Any) -> None:
    """Show on/off flags (``--abort``, ``--help``) without Typer's ``<bool>`` value metavar:
    they take no value. Their help option included (created here as click would, cached).
    Counted flags (``-v``/``-vv``) also take no value, and their ``[default: 0]`` says
    nothing."""
    for param in [*command.params, command.get_help_option(ctx)]:
        if param is not None and getattr(param, "count", False) and param.metavar is None:
            param.metavar = ""
            param.show_default = False
        elif (
            param is not None
            and getattr(param, "is_flag", False)
            and not getattr(param, "count", False)
            and param.metavar is None
        ):
            param.metavar = ""


class KitaruGroup(TyperGroup):
    """The command groups of ``kitaru``: Typer's, with flags shown without a metavar."""

    def get_params(self, ctx: Any) -> list[Any]:
        _quiet_flags(self, ctx)
        return super().get_params(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _quiet_flags(command, ctx)
        return command


def build_app() -> typer.Typer:
    """A fresh root app with the built-in commands (no plugin commands)."""
    from kitaru_cli import (
        _connection,
        _executions,
        _log_store,
        _model,
        _plugins,
        _run,
        _secrets,
        _stack,
        _status,
        _unavailable,
    )

    root = typer.Typer(
        name="kitaru",
        cls=KitaruGroup,
        help=HELP,
        context_settings=CONTEXT,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback(invoke_without_command=True)(_root)
    root.command("init")(_connection.init_command)
    root.command("login")(_connection.login_command)
    root.command("logout")(_connection.logout_command)
    root.command("status")(_status.status_command)
    root.add_typer(_log_store.app, name="log-store", cls=KitaruGroup)
    root.add_typer(_stack.app, name="stack", cls=KitaruGroup)
    root.add_typer(_secrets.app, name="secrets", cls=KitaruGroup)
    root.add_typer(_model.app, name="model", cls=KitaruGroup)
    root.command("run")(_run.run_command)
    root.add_typer(_executions.app, name="executions", cls=KitaruGroup)
    root.command("plugins")(_plugins.plugins_command)
    root.command(
        "memory", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
    )(_unavailable.memory_command)
    return root
