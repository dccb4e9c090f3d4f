"""Core's own defaults, registered through the same hooks third-party plugins use."""

from __future__ import annotations

from typing import Any

from kitaru.plugins import hookimpl


@hookimpl
def kitaru_register_backends(register: Any) -> None:
    from kitaru._memory import MemoryBackend

    register("memory", lambda url: MemoryBackend())
