"""The ``kitaru`` command line (Typer). Plugins add commands through the
``kitaru_register_commands`` hook (see :mod:`kitaru_cli.hookspecs`)."""

from kitaru_cli.app import app, build_app, main

__all__ = ["app", "build_app", "main"]
