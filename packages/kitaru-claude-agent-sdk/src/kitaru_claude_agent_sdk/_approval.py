"""``kc.require_approval``: a tool use becomes a flow-level ``kitaru.wait()``.

``require_approval(tools=[...])`` returns a ``PreToolUse`` ``HookMatcher`` to put in
``ClaudeAgentOptions(hooks={"PreToolUse": [...]})``. Inside a durable agent run its hook
answers ``defer`` for a gated tool use that has no decision yet: the CLI stops the run and
reports the call in ``ResultMessage.deferred_tool_use``, so no process is held while a human
decides. The adapter then calls ``kitaru.wait(name=<tool>, metadata={tool input, ...})``; the
answer (``{"allow": true}`` or ``{"allow": false, "message": "..."}``) is recorded and the
Claude session is resumed, where the hook (asked again for the same tool use) returns it.
Outside a flow the hook does nothing, so the SDK's usual permission flow applies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pydantic
from claude_agent_sdk import HookMatcher
from kitaru.durable import check_wait_args
from kitaru.errors import KitaruUsageError

__all__ = ["ApprovalDecision", "ApprovalMatcher", "ApprovalRun", "active_run", "require_approval"]


class ApprovalDecision(pydantic.BaseModel):
    """The input that answers an approval wait."""

    allow: bool
    message: str | None = None


@dataclass
class ApprovalRun:
    """Decisions of the durable agent run in progress, by tool-use id."""

    decisions: dict[str, ApprovalDecision] = field(default_factory=dict)


_ACTIVE: ContextVar[ApprovalRun | None] = ContextVar("kitaru_claude_approval", default=None)


def active_run() -> ContextVar[ApprovalRun | None]:
    return _ACTIVE


@dataclass(kw_only=True)
class ApprovalMatcher(HookMatcher):
    """A ``PreToolUse`` hook matcher that gates ``tools`` behind a Kitaru wait."""

    tools: tuple[str, ...] = ()
    question: str | None = None
    wait_timeout: float | None = None

    def gates(self, tool_name: str) -> bool:
        return tool_name in self.tools

    async def decide(self, hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        run = _ACTIVE.get()
        name = hook_input.get("tool_name", "") if isinstance(hook_input, dict) else ""
        if run is None or not self.gates(name):
            return {}
        tool_use_id = tool_use_id or hook_input.get("tool_use_id")
        decision = run.decisions.get(tool_use_id or "")
        if decision is None:
            out = {
                "permissionDecision": "defer",
                "permissionDecisionReason": "Waiting for approval in Kitaru.",
            }
        elif decision.allow:
            out = {
                "permissionDecision": "allow",
                "permissionDecisionReason": decision.message or "Approved in Kitaru.",
            }
        else:
            out = {
                "permissionDecision": "deny",
                "permissionDecisionReason": decision.message or "Denied in Kitaru.",
            }
        return {"hookSpecificOutput": {"hookEventName": "PreToolUse", **out}}


def require_approval(
    tools: Sequence[str], *, question: str | None = None, timeout: float | None = None
) -> ApprovalMatcher:
    """Gate ``tools`` (exact tool names, e.g. ``"Bash"``, ``"mcp__shop__refund"``) behind a
    human decision.

    Put the result in ``ClaudeAgentOptions(hooks={"PreToolUse": [kc.require_approval(...)]})``
    and run the agent with ``kc.query`` / ``kc.query_sync`` / ``kc.ClaudeSDKClient`` in a flow
    body. Each gated tool use becomes ``kitaru.wait(name=<tool name>, question=question,
    metadata={"adapter", "tool_name", "tool_use_id", "tool_input", "session_id"},
    timeout=timeout)`` whose input is ``{"allow": true}`` or ``{"allow": false, "message":
    "..."}``.

    Args:
        tools: tool names to gate.
        question: shown to whoever answers (default: ``"Allow Claude to use <tool>?"``).
        timeout: seconds the runner listens before the execution suspends as ``waiting``
            (default: ``kitaru.wait``'s).

    Raises:
        KitaruUsageError: at once, for arguments ``kitaru.wait`` would refuse (a negative
            ``timeout``, a ``question`` that is not a string) or a ``tools`` that is not a
            list of tool names, so the mistake is not found after a paid model call.
    """
    if (
        isinstance(tools, str | bytes)
        or not isinstance(tools, Sequence | set | frozenset)
        or not tools
        or not all(isinstance(t, str) and t.strip() for t in tools)
    ):
        raise KitaruUsageError(
            "kc.require_approval(tools=...) must be a non-empty list of tool names, such as "
            f"kc.require_approval(['Bash', 'mcp__shop__refund']), got {tools!r}."
        )
    tools = list(dict.fromkeys(tools))
    check_wait_args(question=question, timeout=timeout, what="kc.require_approval")
    matcher = ApprovalMatcher(
        matcher="^(" + "|".join(re.escape(t) for t in tools) + ")$",
        tools=tuple(tools),
        question=question,
        wait_timeout=timeout,
    )
    matcher.hooks = [matcher.decide]
    return matcher


def approval_matchers(options: Any) -> list[ApprovalMatcher]:
    """The approval matchers among ``options.hooks["PreToolUse"]``."""
    hooks = getattr(options, "hooks", None) or {}
    return [m for m in hooks.get("PreToolUse", []) if isinstance(m, ApprovalMatcher)]


def guard_can_use_tool(options: Any, matchers: list[ApprovalMatcher]) -> Any:
    """A ``can_use_tool`` that backs the approval hooks up.

    The CLI honours ``defer`` only for a turn with a single tool call; with several it ignores
    the hook and asks ``can_use_tool``. This callback then allows or denies a gated tool use by
    its recorded decision, denies one with no decision (Claude is told to ask for it alone),
    and hands every other tool to the user's own callback (default: allow).
    """
    from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny

    user = options.can_use_tool

    async def can_use_tool(tool_name: str, tool_input: Any, context: Any) -> Any:
        matcher = next((m for m in matchers if m.gates(tool_name)), None)
        run = _ACTIVE.get()
        if matcher is None or run is None:
            if user is not None:
                return await user(tool_name, tool_input, context)
            return PermissionResultAllow()
        decision = run.decisions.get(getattr(context, "tool_use_id", None) or "")
        if decision is not None and decision.allow:
            return PermissionResultAllow()
        if decision is not None:
            return PermissionResultDeny(message=decision.message or "Denied in Kitaru.")
        return PermissionResultDeny(
            message=f"{tool_name} needs a human's approval: request it again, on its own "
            "(one tool call in the turn)."
        )

    return can_use_tool
