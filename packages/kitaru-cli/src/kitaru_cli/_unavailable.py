"""``kitaru memory``: a command group of a later release (SPEC decision 20). Until then it
exits 1 with a message that says so, in text or as the JSON error envelope."""

from __future__ import annotations

from typing import Annotated

import typer

from kitaru_cli._output import OutputOption, session

__all__ = ["memory_command"]


def memory_command(
    args: Annotated[
        list[str] | None, typer.Argument(help="Not available yet.", show_default=False)
    ] = None,
    output: OutputOption = "text",
) -> None:
    """Durable memory (not available yet in this version of Kitaru)."""
    with session("memory", output):
        from kitaru.errors import KitaruFeatureNotAvailableError
        from kitaru.memory import NOT_AVAILABLE

        raise KitaruFeatureNotAvailableError(NOT_AVAILABLE)
