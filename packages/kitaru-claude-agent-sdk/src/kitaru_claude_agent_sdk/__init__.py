"""Kitaru adapter for the Claude Agent SDK: durable, journaled agent runs inside flows.

``from kitaru.adapters import claude_agent_sdk as kc`` (or ``import kitaru_claude_agent_sdk
as kc``)::

    @flow
    def triage(issue: str) -> str:
        messages = kc.query_sync(issue, options=ClaudeAgentOptions(...), name="triage")
        return messages[-1].result            # checkpoint triage_agent_run_1

The names below are imported on first use: Kitaru loads this distribution's plugin module in
every process, and importing ``claude_agent_sdk`` there would slow every ``kitaru`` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru_claude_agent_sdk._approval import (
        ApprovalDecision,
        ApprovalMatcher,
        require_approval,
    )
    from kitaru_claude_agent_sdk._client import ClaudeSDKClient
    from kitaru_claude_agent_sdk._codec import decode, encode
    from kitaru_claude_agent_sdk._run import query, query_sync
    from kitaru_claude_agent_sdk._store import KitaruSessionStore

__all__ = [
    "ApprovalDecision",
    "ApprovalMatcher",
    "ClaudeSDKClient",
    "KitaruSessionStore",
    "decode",
    "encode",
    "query",
    "query_sync",
    "require_approval",
]

_HOMES = {
    "ApprovalDecision": "_approval",
    "ApprovalMatcher": "_approval",
    "ClaudeSDKClient": "_client",
    "KitaruSessionStore": "_store",
    "decode": "_codec",
    "encode": "_codec",
    "query": "_run",
    "query_sync": "_run",
    "require_approval": "_approval",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kitaru_claude_agent_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kitaru_claude_agent_sdk.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
