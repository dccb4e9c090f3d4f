"""The ``kitaru`` entry point of this distribution: ``from kitaru.adapters import
claude_agent_sdk`` resolves to :mod:`kitaru_claude_agent_sdk`."""

from __future__ import annotations

from collections.abc import Callable

from kitaru import hookimpl

__all__ = ["kitaru_register_adapters"]


@hookimpl
def kitaru_register_adapters(register: Callable[..., None]) -> None:
    """Serve ``kitaru.adapters.claude_agent_sdk`` (imported only when first used)."""
    register("claude_agent_sdk", "kitaru_claude_agent_sdk")
