"""Argument checks shared by ``kc.query``, ``kc.query_sync`` and ``kc.ClaudeSDKClient``.

Each entry point checks its arguments when it is called, before a checkpoint starts or the
CLI is launched, and names the argument and the fix in a :class:`KitaruUsageError`.
"""

from __future__ import annotations

import re
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions, Transport
from kitaru.errors import KitaruUsageError

__all__ = ["check_entry_args", "check_prompt", "normalize_name"]


def normalize_name(raw: str | None) -> str:
    """Non-word runs become ``_``, leading/trailing ``_`` are trimmed; ``None`` is ``claude``."""
    return re.sub(r"\W+", "_", raw or "").strip("_") or "claude"


def _check_name(name: Any, what: str) -> str:
    """The agent's name in checkpoint and event ids. A name with no letter, digit or ``_``
    (``""``, ``"!!!"``) is refused rather than silently becoming ``claude``: two such agents
    in one flow would share journal names."""
    if name is None:
        return "claude"
    if not isinstance(name, str):
        raise KitaruUsageError(
            f"{what}(name=...) must be a string (it names the agent's checkpoints and journal "
            f"events), got {name!r}."
        )
    if not re.search(r"\w", name):
        raise KitaruUsageError(
            f"{what}(name={name!r}) has no letters, digits or '_' to name the agent's "
            f"checkpoints and journal events. Pass a name such as {what}(..., name='reviewer')."
        )
    return normalize_name(name)


def check_entry_args(
    *, options: Any, transport: Any, name: Any, resume_prompt: Any, what: str
) -> str:
    """Refuse arguments of the wrong type; return the normalized agent name."""
    if options is not None and not isinstance(options, ClaudeAgentOptions):
        raise KitaruUsageError(
            f"{what}(options=...) must be a claude_agent_sdk.ClaudeAgentOptions, got "
            f"{type(options).__name__} {options!r}; e.g. options=ClaudeAgentOptions(model=...)."
        )
    if transport is not None and not isinstance(transport, Transport) and not callable(transport):
        raise KitaruUsageError(
            f"{what}(transport=...) must be a claude_agent_sdk.Transport or a factory "
            f"`options -> Transport`, got {transport!r}; leave it out to use the Claude CLI."
        )
    if not isinstance(resume_prompt, str) or not resume_prompt.strip():
        raise KitaruUsageError(
            f"{what}(resume_prompt=...) must be a non-empty string, got {resume_prompt!r}."
        )
    return _check_name(name, what)


def check_prompt(prompt: Any, *, durable: bool, what: str) -> None:
    """A string, or (outside a flow) an async iterable of message dicts, as the SDK takes."""
    if isinstance(prompt, str):
        return
    if durable:
        raise KitaruUsageError(
            f"{what}(prompt) must be a string inside a Kitaru flow (a stream of prompts cannot "
            f"be replayed), got {type(prompt).__name__}; use kc.ClaudeSDKClient for a "
            "conversation."
        )
    if not hasattr(prompt, "__aiter__"):
        raise KitaruUsageError(
            f"{what}(prompt) must be a string or an async iterable of message dicts, got "
            f"{type(prompt).__name__} {prompt!r}."
        )
