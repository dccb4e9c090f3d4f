"""The LLM provider contract for ``kitaru.llm()`` and the built-in providers.

A provider turns one :class:`LLMRequest` into one :class:`LLMResponse`. Register more with the
``kitaru_register_llm_providers`` hook: ``register(name, provider)``. Built in (each needs its
vendor SDK, installed by an extra): ``openai``, ``ollama`` and ``openrouter`` (OpenAI-compatible,
``pip install kitaru[openai]``) and ``anthropic`` (``pip install kitaru[anthropic]``).
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kitaru.errors import KitaruUsageError

__all__ = [
    "AnthropicProvider",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "OpenAICompatibleProvider",
]


@dataclass(frozen=True, kw_only=True)
class LLMRequest:
    model: str
    messages: Sequence[Mapping[str, str]]
    temperature: float | None = None
    max_tokens: int | None = None
    #: Credentials by environment-variable name (e.g. ``{"OPENAI_API_KEY": "..."}``).
    credentials: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class LLMResponse:
    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None


class LLMProvider(ABC):
    """One vendor API. ``credential_env`` names the key it needs (None: no key)."""

    credential_env: ClassVar[str | None] = None

    @abstractmethod
    def complete(self, request: LLMRequest) -> LLMResponse:
        """Send the request; raise on vendor errors (Kitaru wraps them)."""


def _sdk(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise KitaruUsageError(
            f"The '{module}' package is needed for this provider. Install it with: "
            f"pip install kitaru[{extra}]"
        ) from None


class OpenAICompatibleProvider(LLMProvider):
    """OpenAI's chat completions API, also spoken by Ollama, OpenRouter, vLLM and others."""

    def __init__(
        self,
        *,
        credential_env: str | None,
        base_url: str | None = None,
        base_url_env: str | None = None,
        dummy_key: str | None = None,
    ) -> None:
        self._credential_env = credential_env
        self._base_url = base_url
        self._base_url_env = base_url_env
        self._dummy_key = dummy_key

    @property
    def credential_env(self) -> str | None:  # type: ignore[override]
        return self._credential_env

    def base_url(self) -> str | None:
        if self._base_url_env and os.environ.get(self._base_url_env):
            value = os.environ[self._base_url_env].rstrip("/")
            return value if value.endswith("/v1") else f"{value}/v1"
        return self._base_url

    def complete(self, request: LLMRequest) -> LLMResponse:
        openai = _sdk("openai", "openai")
        key = request.credentials.get(self._credential_env or "", self._dummy_key)
        client = openai.OpenAI(api_key=key, base_url=self.base_url())
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["max_tokens"] = request.max_tokens
        result = client.chat.completions.create(
            model=request.model, messages=list(request.messages), **options
        )
        text = result.choices[0].message.content if result.choices else None
        usage = result.usage
        return LLMResponse(
            text=text or "",
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
        )


class AnthropicProvider(LLMProvider):
    """Anthropic's messages API. System messages must lead; they are joined by blank lines."""

    credential_env = "ANTHROPIC_API_KEY"
    default_max_tokens = 4096

    def complete(self, request: LLMRequest) -> LLMResponse:
        system: list[str] = []
        messages: list[dict[str, str]] = []
        for message in request.messages:
            if message["role"] == "system":
                if messages:
                    raise KitaruUsageError(
                        "Anthropic needs every system message before the first user or "
                        "assistant message."
                    )
                system.append(message["content"])
            else:
                messages.append({"role": message["role"], "content": message["content"]})
        anthropic = _sdk("anthropic", "anthropic")
        client = anthropic.Anthropic(api_key=request.credentials.get("ANTHROPIC_API_KEY"))
        options: dict[str, Any] = {}
        if system:
            options["system"] = "\n\n".join(system)
        if request.temperature is not None:
            options["temperature"] = request.temperature
        result = client.messages.create(
            model=request.model,
            max_tokens=request.max_tokens or self.default_max_tokens,
            messages=messages,
            **options,
        )
        text = "".join(
            getattr(block, "text", "")
            for block in result.content
            if getattr(block, "type", None) == "text"
        )
        usage = result.usage
        return LLMResponse(
            text=text,
            input_tokens=getattr(usage, "input_tokens", None),
            output_tokens=getattr(usage, "output_tokens", None),
        )


def builtin_providers() -> dict[str, LLMProvider]:
    return {
        "openai": OpenAICompatibleProvider(credential_env="OPENAI_API_KEY"),
        "ollama": OpenAICompatibleProvider(
            credential_env=None,
            base_url="http://localhost:11434/v1",
            base_url_env="OLLAMA_HOST",
            dummy_key="ollama",
        ),
        "openrouter": OpenAICompatibleProvider(
            credential_env="OPENROUTER_API_KEY", base_url="https://openrouter.ai/api/v1"
        ),
        "anthropic": AnthropicProvider(),
    }
