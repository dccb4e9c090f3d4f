"""Pieces shared by the execution commands: the id argument and opening the client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from kitaru import KitaruClient

__all__ = ["ExecIdArgument", "open_client", "resolve_id"]

ExecIdArgument = Annotated[
    str, typer.Argument(help="Execution id, or a unique prefix of at least 6 characters.")
]


def open_client() -> KitaruClient:
    """The client on the journal named by the environment (opened here, on first use)."""
    from kitaru import KitaruClient

    return KitaruClient()


def resolve_id(client: KitaruClient, exec_id: str) -> str:
    """The full id of the execution ``exec_id`` names (an id or a unique prefix >= 6)."""
    return client.executions.resolve_id(exec_id)
