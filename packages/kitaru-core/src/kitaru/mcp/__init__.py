"""``kitaru.mcp``: the MCP server, from the ``kitaru-mcp`` distribution (``kitaru[mcp]``).

Core never imports plugin distributions statically; this shim finds ``kitaru_mcp`` at use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__: list[str] = []

INSTALL_HINT = "MCP server dependencies are not installed. Install with: pip install kitaru[mcp]"


def load(module: str = "kitaru_mcp") -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("kitaru_mcp", "mcp"):
            raise ImportError(INSTALL_HINT) from exc
        raise


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(load(), name)
