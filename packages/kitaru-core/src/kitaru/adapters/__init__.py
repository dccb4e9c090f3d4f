"""Harness adapters: ``from kitaru.adapters import pydantic_ai`` resolves the adapter that a
plugin registered with ``kitaru_register_adapters`` (``register(name, module_name)``)."""

from __future__ import annotations

import importlib
from typing import Any

from kitaru.errors import KitaruFeatureNotAvailableError

__all__: list[str] = []

_EXTRAS = {
    "pydantic_ai": "pydantic-ai",
    "langgraph": "langgraph",
    "claude_agent_sdk": "claude-agent-sdk",
}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from kitaru.plugins import collect

    adapters = collect("kitaru_register_adapters", what="adapter")
    if name in adapters:
        module = importlib.import_module(adapters[name])
        globals()[name] = module
        return module
    extra = _EXTRAS.get(name)
    hint = f" Install it with: pip install kitaru[{extra}]" if extra else ""
    raise KitaruFeatureNotAvailableError(
        f"The Kitaru adapter '{name}' is not installed.{hint} Installed adapters: "
        f"{', '.join(sorted(adapters)) or 'none'}."
    )
