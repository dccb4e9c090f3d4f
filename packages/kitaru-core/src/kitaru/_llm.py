"""``kitaru.llm()``: one tracked LLM call.

In the flow body it is a synthetic checkpoint of type ``llm_call`` (its id is the call name);
inside a checkpoint it is a journaled child event of that checkpoint. Either way the prompt
and response are saved as artifacts and usage/latency land in ``llm_calls`` metadata.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from kitaru._context import current_checkpoint, current_flow
from kitaru._metadata import log, save
from kitaru._model_registry import ResolvedModel, resolve
from kitaru.errors import (
    KitaruBackendError,
    KitaruContextError,
    KitaruRuntimeError,
    KitaruUsageError,
)
from kitaru.llm_providers import LLMProvider, LLMRequest, LLMResponse

_NON_WORD = re.compile(r"\W+")
_ROLES = {"system", "user", "assistant"}


def _call_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise KitaruUsageError("LLM call name must be a string.")
    cleaned = _NON_WORD.sub("_", name.strip()).strip("_")
    if not cleaned:
        raise KitaruUsageError("LLM call name cannot be empty.")
    return f"llm_{cleaned}" if cleaned[0].isdigit() else cleaned


def _messages(prompt: Any, system: str | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if system is not None:
        if not isinstance(system, str) or not system.strip():
            raise KitaruUsageError("system must be a non-empty string.")
        out.append({"role": "system", "content": system.strip()})
    if isinstance(prompt, str):
        if not prompt.strip():
            raise KitaruUsageError("The prompt must not be empty.")
        out.append({"role": "user", "content": prompt.strip()})
        return out
    if not isinstance(prompt, Sequence) or not prompt:
        raise KitaruUsageError("The prompt must be a non-empty string or a list of messages.")
    for i, item in enumerate(prompt):
        if not isinstance(item, Mapping) or "role" not in item or "content" not in item:
            raise KitaruUsageError(f"Message {i} must be a mapping with 'role' and 'content'.")
        role, content = item["role"], item["content"]
        if role not in _ROLES or not isinstance(content, str):
            raise KitaruUsageError(
                f"Message {i} needs role one of {sorted(_ROLES)} and string content."
            )
        out.append({"role": role, "content": content})
    return out


def _route(resolved: ResolvedModel, providers: Mapping[str, LLMProvider]) -> tuple[str, str]:
    provider, sep, model = resolved.model.partition("/")
    if not sep or not provider or not model.strip():
        raise KitaruUsageError(
            f"Model '{resolved.model}' must be written as provider/model (e.g. "
            "openai/gpt-4o-mini, anthropic/claude-sonnet-4-5, ollama/llama3)."
        )
    if provider not in providers:
        raise KitaruUsageError(
            f"Unknown LLM provider '{provider}'. Installed providers: "
            f"{', '.join(sorted(providers))}."
        )
    return provider, model.strip()


def _credentials(provider: LLMProvider, resolved: ResolvedModel) -> tuple[dict[str, str], str]:
    env_name = provider.credential_env
    if env_name is None:
        return {}, "none"
    if os.environ.get(env_name):
        return {env_name: os.environ[env_name]}, "environment"
    if resolved.secret:
        from kitaru._secrets import secret_values

        values = secret_values(resolved.secret)
        if env_name not in values:
            raise KitaruRuntimeError(
                f"Secret '{resolved.secret}' of model alias '{resolved.alias}' has no "
                f"{env_name}. Add it with `kitaru secrets set {resolved.secret} "
                f"--{env_name}=...`."
            )
        return {env_name: values[env_name]}, "secret"
    raise KitaruRuntimeError(
        f"No credentials for {resolved.model}: set {env_name} in the environment, or link a "
        f"secret to a model alias (`kitaru secrets set NAME --{env_name}=...` then `kitaru "
        "model register ALIAS --model ... --secret NAME`)."
    )


def llm(
    prompt: str | list[dict[str, str]],
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    name: str | None = None,
) -> str:
    """Call an LLM and return its text, tracked and durable.

    ``model`` is an alias (``kitaru model register``) or ``provider/model``; with
    ``KITARU_LLM_MOCK_RESPONSE`` set, that text is returned without contacting any provider.
    """
    ctx = current_flow()
    if ctx is None:
        raise KitaruContextError("kitaru.llm() can only be called inside a @flow.")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or temperature < 0
    ):
        raise KitaruUsageError(f"temperature must be a number >= 0, got {temperature!r}.")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise KitaruUsageError(f"max_tokens must be an integer >= 1, got {max_tokens!r}.")
    messages = _messages(prompt, system)
    resolved = resolve(model)
    mock = os.environ.get("KITARU_LLM_MOCK_RESPONSE")
    scope = current_checkpoint()
    explicit = _call_name(name)
    with ctx.lock:
        if scope is not None:
            scope.llm_counter += 1
            count = scope.llm_counter
        else:
            ctx.llm_counter += 1
            count = ctx.llm_counter
    call_name = explicit or f"llm_{count}"

    def call() -> dict[str, Any]:
        started = time.perf_counter()
        if mock is not None:
            response = LLMResponse(text=mock)
            source, latency = "mock", 0.0
        else:
            from kitaru.plugins import collect

            providers = collect(
                "kitaru_register_llm_providers", pm=ctx.runtime.plugin_manager, what="LLM provider"
            )
            provider_name, model_name = _route(resolved, providers)
            provider = providers[provider_name]
            credentials, source = _credentials(provider, resolved)
            from kitaru._logcapture import add_redactions

            add_redactions(credentials.values())  # never in logs or journaled failures
            request = LLMRequest(
                model=model_name,
                messages=messages,
                temperature=temperature,
                max_tokens=max_tokens,
                credentials=credentials,
            )
            try:
                response = provider.complete(request)
            except KitaruUsageError:
                raise
            except Exception as exc:
                raise KitaruBackendError(
                    f"LLM provider '{provider_name}' failed for {resolved.model}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            latency = (time.perf_counter() - started) * 1000
        if not response.text:
            raise KitaruRuntimeError(f"{resolved.model} returned no text.")
        return {
            "text": response.text,
            "usage": {
                "tokens_input": response.input_tokens,
                "tokens_output": response.output_tokens,
            },
            "credential_source": source,
            "latency_ms": round(latency, 3),
        }

    def record(result: dict[str, Any]) -> str:
        save(f"{call_name}_prompt", messages, type="prompt")
        save(f"{call_name}_response", result["text"], type="response")
        usage = result["usage"]
        total = None
        if usage["tokens_input"] is not None and usage["tokens_output"] is not None:
            total = usage["tokens_input"] + usage["tokens_output"]
        details = {
            "requested_model": resolved.requested,
            "alias": resolved.alias,
            "resolved_model": resolved.model,
            "credential_source": result["credential_source"],
            "latency_ms": result["latency_ms"],
            "tokens_input": usage["tokens_input"],
            "tokens_output": usage["tokens_output"],
            "total_tokens": total,
        }
        log(llm_calls={call_name: {k: v for k, v in details.items() if v is not None}})
        return str(result["text"])

    if scope is None:
        from kitaru.durable import run_as_checkpoint

        return run_as_checkpoint(
            lambda: record(call()), name=call_name, invocation_id=call_name, type="llm_call"
        )
    from kitaru.durable import journaled

    return record(journaled(f"llm:{call_name}", call))
