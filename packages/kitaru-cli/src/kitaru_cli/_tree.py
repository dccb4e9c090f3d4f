"""The Typer command tree: the root command with its global options and the built-in
commands (plugin commands are added by :func:`kitaru_cli.app.main`)."""

from __future__ import annotations

from typing import Annotated

import typer

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
    root.add_typer(_log_store.app, name="log-store")
    root.add_typer(_stack.app, name="stack")
    root.add_typer(_secrets.app, name="secrets")
    root.add_typer(_model.app, name="model")
    root.command("run")(_run.run_command)
    root.add_typer(_executions.app, name="executions")
    root.command("plugins")(_plugins.plugins_command)
    root.command(
        "memory", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
    )(_unavailable.memory_command)
    return root
