"""The Typer command tree: the root command with its global options and the built-in
commands (plugin commands are added by :func:`kitaru_cli.app.main`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from kitaru_cli._render import dump_json

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
    """The command groups of ``kitaru``: Typer's, with flags shown without a metavar, and
    usage errors as JSON when the command line asks for JSON output."""

    def main(  # type: ignore[override]  # Typer's keywords, passed on as they are
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not (standalone_mode and wants_json(argv)):
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(argv, prog_name, complete_var, False, **extra)
        except TyperException as exc:  # click's errors (Typer vendors click)
            sys.exit(_json_usage_error(exc))
        except typer.Abort:
            error = {"message": "Aborted.", "type": "Abort"}
            typer.echo(dump_json({"command": "kitaru", "error": error}, pretty=False), err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def get_params(self, ctx: Any) -> list[Any]:
        _quiet_flags(self, ctx)
        return super().get_params(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _quiet_flags(command, ctx)
        return command


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for JSON output (``-o json``, ``--output json``,
    ``--output=json``, ``-ojson``; options end at ``--``)."""
    for index, arg in enumerate(args):
        if arg == "--":
            return False
        value: str | None = None
        if arg in ("-o", "--output"):
            value = args[index + 1] if index + 1 < len(args) else None
        elif arg.startswith("--output="):
            value = arg.removeprefix("--output=")
        elif arg.startswith("-o") and not arg.startswith("--"):
            value = arg[2:]
        if value is not None and value.strip().lower() == "json":
            return True
    return False


def _json_usage_error(exc: TyperException) -> int:
    """Report a usage error (a missing argument, an unknown option, a bad value) as the JSON
    error envelope on stderr, as every other error is in JSON mode (SPEC §4), instead of
    Typer's text panel; the exit code: click's (2 for usage errors)."""
    error: dict[str, Any] = {"message": exc.format_message(), "type": type(exc).__name__}
    context = getattr(exc, "ctx", None)
    if context is not None:
        error["usage"] = context.get_usage()
    # `executions.get` for `kitaru executions get`, as the JSON envelopes name commands.
    command = ".".join(str(getattr(context, "command_path", "")).split()[1:]) or "kitaru"
    typer.echo(dump_json({"command": command, "error": error}, pretty=False), err=True)
    return int(getattr(exc, "exit_code", 1))


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
