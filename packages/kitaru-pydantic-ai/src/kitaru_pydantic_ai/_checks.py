"""Wrap-time checks: ``kp.wrap(...)`` refuses what would only fail once a run starts in a flow.

Every check reads the agent through PydanticAI's public API (``agent.toolsets``,
``AbstractToolset.apply``, ``FunctionToolset.tools``, ``Tool.requires_approval``,
``ExternalToolset.tool_defs``, ``AbstractCapability.for_agent``) and raises
:class:`~kitaru.errors.KitaruUsageError` before anything is built. Tools or toolsets added to
the agent after ``kp.wrap(...)`` are checked only when a run starts, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitaru.errors import KitaruUsageError
from pydantic_ai.agent import AbstractAgent
from pydantic_ai.exceptions import UserError
from pydantic_ai.toolsets import AbstractToolset, ExternalToolset, FunctionToolset

from kitaru_pydantic_ai._engine import DEFERRED_MESSAGE, KitaruDurability

__all__ = ["check_agent", "check_tools", "normalize_name", "wrap_name"]


def normalize_name(raw: str | None) -> str:
    """Non-word runs become ``_``, leading/trailing ``_`` are trimmed; empty means ``agent``."""
    return re.sub(r"\W+", "_", raw or "").strip("_") or "agent"


def wrap_name(name: Any, agent: AbstractAgent[Any, Any]) -> str:
    """The wrapped agent's Kitaru name: ``name``, else the agent's name, else ``"agent"``.

    A name that normalizes to nothing (``""``, ``"!!!"``) is refused rather than silently
    becoming ``"agent"``: two such agents in one flow would share journal names.
    """
    if name is not None and not isinstance(name, str):
        raise KitaruUsageError(
            f"kp.wrap(name=...) must be a string (it names the agent's checkpoints and journal "
            f"events), got {name!r}."
        )
    if name is not None:
        raw, label = name, f"kp.wrap(name={name!r})"
    elif agent.name:
        raw, label = agent.name, f"The agent's name {agent.name!r}"
    else:
        return "agent"
    if not re.sub(r"\W+", "_", raw).strip("_"):
        raise KitaruUsageError(
            f"{label} has no letters, digits or '_' to name the agent's checkpoints and "
            "journal events. Pass a name such as kp.wrap(agent, name='support')."
        )
    return normalize_name(raw)


def check_agent(agent: Any) -> None:
    """The agent itself: a PydanticAI agent with a model."""
    if not isinstance(agent, AbstractAgent):
        raise KitaruUsageError(f"kp.wrap() needs a PydanticAI agent, got {agent!r}.")
    if agent.model is None:
        raise KitaruUsageError(
            "kp.wrap() needs an agent with a model: create it as Agent(model, ...). A model "
            "given only per run cannot be named in the journal."
        )


def _leaves(agent: AbstractAgent[Any, Any]) -> list[AbstractToolset[Any]]:
    found: list[AbstractToolset[Any]] = []
    for toolset in agent.toolsets:
        toolset.apply(found.append)
    return found


def check_tools(
    agent: AbstractAgent[Any, Any],
    *,
    by_name: Mapping[str, Any] | None,
    durability: KitaruDurability | None,
) -> None:
    """Refuse, at wrap time, what a run inside a flow would refuse anyway.

    * Deferred tools (``requires_approval=True``, an ``ExternalToolset``): the run-time message.
    * Toolsets without the explicit ``id`` journal names need: binding ``durability`` (the
      per-run capability; ``None`` when the agent carries its own, which PydanticAI bound at
      construction) raises PydanticAI's own message. The bound copy is the one runs reuse.
    * ``by_name`` keys that name no tool, when every toolset is a function toolset (the
      names of MCP, dynamic or wrapper toolsets' tools are known only during a run).
    """
    leaves = _leaves(agent)
    deferred: list[tuple[str, str]] = []
    for leaf in leaves:
        if isinstance(leaf, FunctionToolset):
            deferred += [
                (n, "ApprovalRequired") for n, t in leaf.tools.items() if t.requires_approval
            ]
        elif isinstance(leaf, ExternalToolset):
            deferred += [(d.name, "CallDeferred") for d in leaf.tool_defs]
    if deferred:
        kinds = " and ".join(sorted({k for _, k in deferred}))
        raise KitaruUsageError(
            "kp.wrap(): "
            + DEFERRED_MESSAGE.format(tool="', '".join(n for n, _ in deferred), kind=kinds)
            + " (Use the unwrapped agent where PydanticAI's deferred tools are wanted.)"
        )
    if durability is not None:
        try:
            durability.for_agent(agent)
        except UserError as exc:
            raise KitaruUsageError(f"kp.wrap(): {exc}") from exc
    if by_name and all(isinstance(t, FunctionToolset) for t in agent.toolsets):
        known = sorted(
            {n for leaf in leaves if isinstance(leaf, FunctionToolset) for n in leaf.tools}
        )
        unknown = sorted(set(by_name) - set(known))
        if unknown:
            raise KitaruUsageError(
                f"kp.wrap(tool_capture_config_by_name=...) names no tool of this agent: "
                f"{', '.join(map(repr, unknown))}. Its tools: {', '.join(known) or '(none)'}. "
                "Fix the name, or register the tool before calling kp.wrap()."
            )
