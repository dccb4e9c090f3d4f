"""The ``kitaru`` command line (Typer). Plugins add commands through the
``kitaru_register_commands`` hook (see :mod:`kitaru_cli.hookspecs`)."""

import sys
from typing import Any

from kitaru_cli.app import build_app, main

__all__ = ["app", "build_app", "main"]

# Importing the submodule bound the name `app` here to it; the public `app` is the root Typer
# app, built on first access (see __getattr__) so that importing the package stays cheap.
del globals()["app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        return sys.modules["kitaru_cli.app"].app
    raise AttributeError(f"module 'kitaru_cli' has no attribute {name!r}")
