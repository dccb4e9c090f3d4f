"""The values of secrets llm() uses never reach captured logs, exported logs, journaled failures
or the frozen spec, even when a provider echoes them back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import kitaru
import pytest
from kitaru import KitaruClient, checkpoint, flow
from kitaru.errors import KitaruExecutionError
from kitaru.log_store import flush, set_log_store
from kitaru.model_aliases import register_alias
from kitaru.secrets import set_secret

from .otlp_receiver import otlp_receiver

SECRET = "sk-live-9f8e7d6c5b4a3210"


class _LeakyVendor(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that echoes the API key it was sent."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Authorization"].removeprefix("Bearer ")
        payload: dict[str, Any]
        if body["model"] == "reject":
            status, payload = (
                401,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {key}",
                        "type": "invalid_request_error",
                    }
                },
            )
        else:
            status, payload = (
                200,
                {
                    "id": "c1",
                    "object": "chat.completion",
                    "created": 1,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": f"I saw key {key}"},
                        }
                    ],
                },
            )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def vendor(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LeakyVendor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    for name in (
        "OPENAI_API_KEY",
        "KITARU_LLM_MOCK_RESPONSE",
        "KITARU_DEFAULT_MODEL",
        "KITARU_MODEL_REGISTRY",
        "KITARU_LOG_STORE_BACKEND",
        "KITARU_LOG_STORE_ENDPOINT",
        "KITARU_LOG_STORE_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@checkpoint
def echo(text: str) -> str:
    print(f"model said: {text}")
    return text


@flow
def chat(model: str) -> str:
    return echo(kitaru.llm("hello", model=model, name="ask"))


def test_secret_values_are_redacted(memory_runtime: object, vendor: None) -> None:
    set_secret("openai-creds", {"OPENAI_API_KEY": SECRET})
    register_alias("smart", "openai/gpt-test", secret="openai-creds")
    register_alias("broken", "openai/reject", secret="openai-creds")
    with otlp_receiver() as receiver:
        set_log_store("otlp", endpoint=receiver.url)
        kitaru.configure(image={"environment": {"OPENAI_API_KEY": SECRET}})
        try:
            ok = chat.run("smart")
            assert ok.wait(timeout=30) == f"I saw key {SECRET}"  # the value itself is untouched
            with pytest.raises(KitaruExecutionError) as info:
                chat.run("broken").wait(timeout=30)
        finally:
            kitaru.configure(image=None)
        assert flush(10)
        exported = json.dumps(receiver.records())
    assert "Incorrect API key provided: ***" in str(info.value)
    assert SECRET not in str(info.value)
    client = KitaruClient()
    good = client.executions.get(ok.exec_id)
    logs = [e.message for e in client.executions.logs(ok.exec_id, source="all")]
    assert "model said: I saw key ***" in logs
    assert "model said: I saw key ***" in exported and SECRET not in exported
    bad = client.executions.get(info.value.exec_id)  # type: ignore[arg-type]
    assert bad.failure is not None and "Incorrect API key provided: ***" in bad.failure.message
    for execution in (good, bad):
        shown = json.dumps(
            {
                "spec": execution.frozen_execution_spec,
                "reason": execution.status_reason,
                "failure": str(execution.failure),
                "calls": [str(c) for c in execution.checkpoints],
            }
        )
        assert SECRET not in shown
