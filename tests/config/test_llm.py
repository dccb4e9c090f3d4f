"""kitaru.llm(): synthetic checkpoint vs inline event, naming, model aliases, credentials,
mock mode, and the real OpenAI/Anthropic SDK clients against local wire-format servers."""

from __future__ import annotations

from collections.abc import Iterator

import kitaru
import pytest
from kitaru import KitaruClient, checkpoint, flow
from kitaru._model_registry import register_alias
from kitaru.errors import (
    KitaruContextError,
    KitaruExecutionError,
    KitaruUsageError,
)

from .llm_servers import vendor_server


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with vendor_server() as srv:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        monkeypatch.setenv("OPENAI_BASE_URL", f"{base}/v1")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", base)
        monkeypatch.setenv("OLLAMA_HOST", base)
        for name in (
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "KITARU_LLM_MOCK_RESPONSE",
            "KITARU_DEFAULT_MODEL",
            "KITARU_MODEL_REGISTRY",
        ):
            monkeypatch.delenv(name, raising=False)
        yield srv


@flow
def two_calls(topic: str) -> str:
    outline = kitaru.llm(f"outline {topic}", model="openai/gpt-test", name="outline call")
    draft = kitaru.llm(
        [{"role": "user", "content": outline}],
        model="anthropic/claude-test",
        system="be brief",
        name="draft_call",
        max_tokens=50,
    )
    return draft


def test_flow_body_calls_are_synthetic_checkpoints(
    memory_runtime: object, server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    handle = two_calls.run("durability")
    assert handle.wait(timeout=30) == "claude says: openai says: outline durability"
    execution = KitaruClient().executions.get(handle.exec_id)
    assert [(c.invocation_id, c.checkpoint_type) for c in execution.checkpoints] == [
        ("outline_call", "llm_call"),
        ("draft_call", "llm_call"),
    ]
    outline = execution.checkpoints[0]
    usage = outline.metadata["llm_calls"]["outline_call"]
    assert usage["resolved_model"] == "openai/gpt-test"
    assert usage["credential_source"] == "environment"
    assert (usage["tokens_input"], usage["tokens_output"], usage["total_tokens"]) == (11, 7, 18)
    names = {a.name: a for a in execution.artifacts if a.save_type == "manual"}
    assert names["outline_call_prompt"].kind == "prompt"
    assert names["outline_call_prompt"].load() == [
        {"role": "user", "content": "outline durability"}
    ]
    assert names["draft_call_response"].load().startswith("claude says")
    anthropic_request = server.requests[1]  # type: ignore[attr-defined]
    assert anthropic_request["body"]["system"] == "be brief"
    assert anthropic_request["body"]["max_tokens"] == 50
    headers = anthropic_request["headers"]
    assert "sk-ant" in (headers.get("x-api-key", "") + headers.get("authorization", ""))
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-openai"  # type: ignore[attr-defined]


def test_inside_a_checkpoint_it_is_an_inline_event(
    memory_runtime: object, server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KITARU_LLM_MOCK_RESPONSE", "mocked")

    @checkpoint
    def think() -> list[str]:
        return [kitaru.llm("a", model="openai/x"), kitaru.llm("b", model="nope/x")]

    @flow
    def f() -> list[str]:
        return think()

    handle = f.run()
    assert handle.wait(timeout=10) == ["mocked", "mocked"]
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert call.name == "think"
    assert set(call.metadata["llm_calls"]) == {"llm_1", "llm_2"}
    assert call.metadata["llm_calls"]["llm_1"]["credential_source"] == "mock"
    assert server.requests == []  # type: ignore[attr-defined]


def test_aliases_default_and_ollama(
    memory_runtime: object, server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_alias("local", "ollama/llama3")

    @flow
    def f() -> str:
        return kitaru.llm("hi")

    handle = f.run()
    assert handle.wait(timeout=30) == "openai says: hi"
    calls = KitaruClient().executions.get(handle.exec_id).checkpoints
    details = calls[0].metadata["llm_calls"]["llm_1"]
    assert (details["alias"], details["resolved_model"]) == ("local", "ollama/llama3")
    assert server.requests[0]["path"] == "/v1/chat/completions"  # type: ignore[attr-defined]


def test_errors(memory_runtime: object, server: object, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KitaruContextError, match="only be called inside a @flow"):
        kitaru.llm("x")

    def failing(**kwargs: object) -> KitaruExecutionError:
        @flow
        def g() -> str:
            return kitaru.llm("x", **kwargs)  # type: ignore[arg-type]

        with pytest.raises(KitaruExecutionError) as info:
            g.run().wait(timeout=30)
        return info.value

    assert "No model alias is configured" in str(failing())
    assert "must be written as provider/model" in str(failing(model="gpt"))
    assert "Unknown LLM provider 'acme'" in str(failing(model="acme/x"))
    assert "set OPENAI_API_KEY" in str(failing(model="openai/x"))
    assert "LLM call name cannot be empty" in str(failing(model="openai/x", name="  "))
    monkeypatch.setenv("OPENAI_API_KEY", "sk")
    server.fail = True  # type: ignore[attr-defined]
    error = failing(model="openai/x")
    assert "LLM provider 'openai' failed" in str(error)
    with pytest.raises(KitaruUsageError, match="Invalid model alias"):
        register_alias("Bad Alias", "openai/x")


def test_credentials_from_an_alias_secret(memory_runtime: object, server: object) -> None:
    from datetime import UTC, datetime

    from kitaru.backend import SecretRecord

    now = datetime.now(UTC)
    memory_runtime.backend.put_secret(  # type: ignore[attr-defined]
        SecretRecord(
            secret_id="s1",
            name="openai-creds",
            values={"OPENAI_API_KEY": "sk-secret"},
            created_at=now,
            updated_at=now,
        )
    )
    register_alias("smart", "openai/gpt-test", secret="openai-creds")

    @flow
    def f() -> str:
        return kitaru.llm("hello", model="smart")

    handle = f.run()
    assert handle.wait(timeout=30) == "openai says: hello"
    details = KitaruClient().executions.get(handle.exec_id).checkpoints[0].metadata["llm_calls"]
    assert details["llm_1"]["credential_source"] == "secret"
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-secret"  # type: ignore[attr-defined]
