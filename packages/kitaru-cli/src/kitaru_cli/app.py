"""The ``kitaru`` console script: global options, the built-in commands and plugin commands.

Importing this module imports neither Typer nor Kitaru core: :func:`main` builds the command
tree (:mod:`kitaru_cli._tree`) when it runs, and commands import what they need when they
run, so ``kitaru --help`` and ``kitaru --version`` stay fast and never open a journal. The two
hot read commands, ``kitaru executions list|get ... -o json``, skip Typer altogether when
their command line is a plain one (:mod:`kitaru_cli._fast`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "build_app", "main"]  # noqa: F822 - `app` is built on first access


def build_app() -> typer.Typer:
    """A fresh root app with the built-in commands (no plugin commands)."""
    from kitaru_cli._tree import build_app as build

    return build()


def __getattr__(name: str) -> Any:
    # `app`, the root Typer app with the built-in commands, is built on first access.
    if name == "app":
        value = build_app()
        globals()["app"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


BUILTIN_COMMANDS = frozenset(
    {
        "init",
        "login",
        "logout",
        "status",
        "log-store",
        "stack",
        "secrets",
        "model",
        "run",
        "executions",
        "plugins",
        "memory",
    }
)


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
    """Entry point of the ``kitaru`` console script: built-in plus plugin commands.

    Returns the exit code. Called without ``argv`` (as the console script is), a built-in
    command ends the process itself once it is done (see :func:`_exit_now`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    builtin = not _may_name_plugin_command(args)
    # A built-in command is a short-lived process that allocates many objects (the imports
    # of core and the journal driver, thousands of rows for `executions list`) and frees few
    # of them before it exits, so the cyclic garbage collector only costs time: 100-200 ms
    # of a 0.5-1 s command (benchmarks/bench_cli.py). Built-in commands that keep running
    # (`logs --follow`, `run --wait`, `input --interactive`) turn it back on with
    # `_output.long_running()`; plugin commands (possibly servers) always run with it on.
    collecting = gc.isenabled()
    if builtin:
        gc.disable()
    try:
        code = _main(args)
    finally:
        if collecting:
            gc.enable()
    if argv is None and builtin:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process at once, skipping the interpreter's teardown.

    Tearing down frees every module and object one by one and runs a last full garbage
    collection: about 100 ms of a 0.5 s ``kitaru executions get`` (benchmarks/bench_cli.py),
    and nothing a built-in command needs, since everything it wrote to the journal is
    committed. ``atexit`` handlers still run and the standard streams are flushed. If a
    non-daemon thread is still alive (an in-process runner, say), this returns and the
    interpreter exits normally, waiting for it.
    """
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        return
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def _main(args: list[str]) -> int:
    try:
        return _run(args)
    except BrokenPipeError:
        # The reader went away (`kitaru executions list | head`): stop quietly, with success,
        # as a reader that stops early is no failure of ours (ripgrep and fd do the same).
        from kitaru_cli._render import quiet_closed_stdout

        quiet_closed_stdout()
        return 0


def _run(args: list[str]) -> int:
    from kitaru_cli import _fast

    code = _fast.run(args)
    if code is not None:
        return code
    import typer

    from kitaru_cli._plugins import register_plugin_commands

    cli = build_app()
    if _may_name_plugin_command(args):
        try:
            register_plugin_commands(cli)
        except Exception as exc:  # a broken plugin must not take the built-in commands down
            typer.echo(f"Warning: plugin commands were not loaded: {exc}", err=True)
    try:
        cli(args=args, prog_name="kitaru")
    except SystemExit as exc:
        status = exc.code
        return status if isinstance(status, int) else (0 if status is None else 1)
    return 0
