"""Pieces shared by the execution commands: the id argument and opening the client."""

from __future__ import annotations

from typing import Annotated

import typer

from kitaru_cli._reading import open_client, resolve_id

__all__ = ["ExecIdArgument", "open_client", "resolve_id"]

ExecIdArgument = Annotated[
    str, typer.Argument(help="Execution id, or a unique prefix of at least 6 characters.")
]
