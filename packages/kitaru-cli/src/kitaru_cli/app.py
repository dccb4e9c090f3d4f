"""The root ``kitaru`` command: global options, the built-in commands and plugin commands.

Importing this module imports Typer but not Kitaru core: commands import what they need when
they run, so ``kitaru --help`` and ``kitaru --version`` stay fast and never open a journal.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

__all__ = ["app", "build_app", "main"]

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
    from kitaru_cli import _executions, _plugins, _run

    root = typer.Typer(
        name="kitaru",
        help=HELP,
        context_settings=CONTEXT,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback(invoke_without_command=True)(_root)
    root.command("run")(_run.run_command)
    root.add_typer(_executions.app, name="executions")
    root.command("plugins")(_plugins.plugins_command)
    return root


app = build_app()


BUILTIN_COMMANDS = frozenset({"run", "executions", "plugins"})


def _may_name_plugin_command(argv: list[str]) -> bool:
    """False when the command line names a built-in command or only asks for the version.

    Loading plugins imports every installed plugin, so ``kitaru --version`` and the
    built-in commands skip it; the root help and unknown command names need it.
    """
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None:
        return first not in BUILTIN_COMMANDS
    return not any(a in ("-V", "--version") for a in argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kitaru`` console script: built-in plus plugin commands."""
    from kitaru_cli._plugins import register_plugin_commands

    args = list(sys.argv[1:] if argv is None else argv)
    cli = build_app()
    if _may_name_plugin_command(args):
        try:
            register_plugin_commands(cli)
        except Exception as exc:  # a broken plugin must not take the built-in commands down
            typer.echo(f"Warning: plugin commands were not loaded: {exc}", err=True)
    try:
        cli(args=args, prog_name="kitaru")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BrokenPipeError:
        # The reader went away (`kitaru executions list | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0
