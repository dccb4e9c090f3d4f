"""Core's own defaults, registered through the same hooks third-party plugins use."""

from __future__ import annotations

from typing import Any

from kitaru.plugins import hookimpl


@hookimpl
def kitaru_register_backends(register: Any) -> None:
    from kitaru._memory import MemoryBackend

    register("memory", lambda url: MemoryBackend())


@hookimpl
def kitaru_register_serializers(register: Any) -> None:
    from kitaru import serialization as s

    register(s.JsonSerializer(), priority=100)
    register(s.BytesSerializer(), priority=90)
    register(s.PydanticSerializer(), priority=80)
    register(s.DataclassSerializer(), priority=70)
    register(s.AttrsSerializer(), priority=60)
    register(s.PickleSerializer(), priority=-100)


@hookimpl
def kitaru_register_artifact_stores(register: Any) -> None:
    from kitaru.artifacts import LocalArtifactStore

    register("file", LocalArtifactStore.from_uri)


@hookimpl
def kitaru_register_stack_types(register: Any) -> None:
    from kitaru.runners import LocalRunner

    register("local", LocalRunner)


@hookimpl
def kitaru_register_llm_providers(register: Any) -> None:
    from kitaru.llm_providers import builtin_providers

    for name, provider in builtin_providers().items():
        register(name, provider)
