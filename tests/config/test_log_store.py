"""The log store: runtime logs stay in the journal and are also exported over OTLP/HTTP JSON to
a configured endpoint, from a background thread that never blocks or breaks a run."""

from __future__ import annotations

import json
import logging
import socket
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kitaru import KitaruClient, _logstore, checkpoint, flow
from kitaru.backend import LogRecord
from kitaru.errors import KitaruUsageError
from kitaru.log_store import flush, get_log_store, reset_log_store, set_log_store

from .otlp_receiver import Receiver, otlp_receiver

ENV = ("KITARU_LOG_STORE_BACKEND", "KITARU_LOG_STORE_ENDPOINT", "KITARU_LOG_STORE_API_KEY")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as server:
        yield server


@checkpoint
def emit(topic: str) -> str:
    print(f"researching {topic}")
    logging.getLogger("agent").warning("slow source for %s", topic)
    return topic.upper()


@flow
def research(topic: str) -> str:
    print("flow body starts")
    return emit(topic)


def test_flow_logs_are_exported_with_their_attributes(runtime: object, receiver: Receiver) -> None:
    set_log_store("otlp", endpoint=receiver.url + "/", api_key="tok-export-123")
    handle = research.run("agents")
    assert handle.wait(timeout=30) == "AGENTS"
    assert flush(10)
    records = receiver.wait_for(lambda rs: len(rs) >= 3)
    by_body = {r["body"]["stringValue"]: r for r in records}
    printed = by_body["researching agents"]
    assert printed["attrs"] == {
        "kitaru.exec_id": handle.exec_id,
        "kitaru.source": "step",
        "kitaru.checkpoint": "emit",
        "kitaru.stream": "stdout",
    }
    assert (printed["severityText"], printed["severityNumber"]) == ("INFO", 9)
    assert int(printed["timeUnixNano"]) == pytest.approx(time.time() * 1e9, abs=60e9)
    logged = by_body["slow source for agents"]
    assert (logged["severityText"], logged["attrs"]["kitaru.checkpoint"]) == ("WARNING", "emit")
    assert logged["attrs"]["code.filepath"] == "test_log_store.py"
    body = by_body["flow body starts"]
    assert body["attrs"]["kitaru.source"] == "runner" and "kitaru.checkpoint" not in body["attrs"]
    post = receiver.posts[0]
    assert post["path"] == "/v1/logs"
    assert post["headers"]["authorization"] == "Bearer tok-export-123"
    assert post["headers"]["content-type"] == "application/json"
    assert post["body"]["resourceLogs"][0]["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "kitaru"}}
    ]
    # The journal keeps them too.
    journal = [e.message for e in KitaruClient().executions.logs(handle.exec_id)]
    assert "researching agents" in journal


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_log_store_never_breaks_a_run(
    runtime: object, capfd: pytest.CaptureFixture[str]
) -> None:
    set_log_store("otlp", endpoint=f"http://127.0.0.1:{_closed_port()}")
    handle = research.run("offline")
    assert handle.wait(timeout=30) == "OFFLINE"
    assert flush(10)
    exporter = _logstore.active_exporter()
    assert exporter is not None and exporter.failed >= 1 and exporter.exported == 0
    assert "could not export" in capfd.readouterr().err
    journal = [e.message for e in KitaruClient().executions.logs(handle.exec_id)]
    assert journal == ["researching offline", "slow source for offline"]


def _record(message: str) -> LogRecord:
    return LogRecord(exec_id="e1", message=message, timestamp=datetime.now(UTC))


def test_the_queue_is_bounded_and_drops_the_oldest(receiver: Receiver) -> None:
    receiver.gate.clear()  # a stalled collector
    exporter = _logstore.OTLPExporter(receiver.url, max_queue=3, batch_size=1)
    exporter.submit([_record("r0")])
    deadline = time.monotonic() + 10
    while exporter.pending and time.monotonic() < deadline:  # r0 is being sent
        time.sleep(0.01)
    started = time.monotonic()
    exporter.submit([_record(f"r{i}") for i in range(1, 6)])
    assert time.monotonic() - started < 0.5  # submitting never waits for the network
    assert (exporter.pending, exporter.dropped) == (3, 2)
    assert not exporter.flush(0.2)
    receiver.gate.set()
    assert exporter.flush(10)
    assert [r["body"]["stringValue"] for r in receiver.records()] == ["r0", "r3", "r4", "r5"]
    assert (exporter.exported, exporter.failed) == (4, 0)


def test_otlp_record_shape() -> None:
    record = LogRecord(
        exec_id="e1",
        message="hi",
        timestamp=datetime(2025, 1, 2, tzinfo=UTC),
        level="error",
        source="step",
        invocation_id="emit_2",
        stream=None,
        module="agent",
        filename="agent.py",
        lineno=7,
    )
    payload = _logstore.otlp_payload([record])
    (scope,) = payload["resourceLogs"][0]["scopeLogs"]
    assert scope["scope"]["name"] == "kitaru"
    assert scope["logRecords"] == [
        {
            "timeUnixNano": "1735776000000000000",
            "observedTimeUnixNano": "1735776000000000000",
            "severityNumber": 17,
            "severityText": "ERROR",
            "body": {"stringValue": "hi"},
            "attributes": [
                {"key": "kitaru.exec_id", "value": {"stringValue": "e1"}},
                {"key": "kitaru.source", "value": {"stringValue": "step"}},
                {"key": "kitaru.checkpoint", "value": {"stringValue": "emit_2"}},
                {"key": "code.namespace", "value": {"stringValue": "agent"}},
                {"key": "code.filepath", "value": {"stringValue": "agent.py"}},
                {"key": "code.lineno", "value": {"intValue": "7"}},
            ],
        }
    ]
    assert _logstore.logs_url("http://h:4318/v1/logs") == "http://h:4318/v1/logs"


def test_settings_precedence_validation_and_other_sections(
    isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get_log_store() == _logstore.LogStoreConfig()
    assert get_log_store().source == "default" and get_log_store().is_default
    from kitaru.model_aliases import register_alias

    register_alias("fast", "openai/gpt-4o-mini")
    saved = set_log_store("otlp", endpoint="https://collector.example.com:4318/", api_key=" k-1 ")
    assert (saved.endpoint, saved.api_key, saved.source) == (
        "https://collector.example.com:4318",
        "k-1",
        "global user config",
    )
    assert "k-1" not in repr(saved)
    file = isolated_config / "kitaru.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    data = json.loads(file.read_text())
    assert data["log_store"]["backend"] == "otlp"
    assert data["model_registry"]["aliases"]["fast"]["model"] == "openai/gpt-4o-mini"
    assert get_log_store() == saved

    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "datadog")
    monkeypatch.setenv("KITARU_LOG_STORE_ENDPOINT", "http://dd:4318")
    env = get_log_store()
    assert (env.backend, env.endpoint, env.api_key, env.source) == (
        "datadog",
        "http://dd:4318",
        None,
        "environment",
    )
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "journal")
    with pytest.raises(
        KitaruUsageError,
        match=r"^KITARU_LOG_STORE_ENDPOINT and "
        r"KITARU_LOG_STORE_API_KEY cannot be used with the default log store "
        r"\('journal'\)\.$",
    ):
        get_log_store()
    monkeypatch.delenv("KITARU_LOG_STORE_ENDPOINT")
    assert get_log_store() == _logstore.LogStoreConfig(source="environment")
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "  ")  # blank means unset
    assert get_log_store() == saved
    monkeypatch.setenv("KITARU_LOG_STORE_API_KEY", "k")
    with pytest.raises(
        KitaruUsageError,
        match=r"^KITARU_LOG_STORE_BACKEND is required when "
        "KITARU_LOG_STORE_ENDPOINT or KITARU_LOG_STORE_API_KEY is set.$",
    ):
        get_log_store()
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "otlp")
    with pytest.raises(KitaruUsageError, match=r"^KITARU_LOG_STORE_ENDPOINT must be set"):
        get_log_store()
    monkeypatch.setenv("KITARU_LOG_STORE_ENDPOINT", "grpc://x:4317")
    with pytest.raises(
        KitaruUsageError,
        match=r"^KITARU_LOG_STORE_ENDPOINT must be an "
        r"http:// or https:// URL, got 'grpc://x:4317'\.$",
    ):
        get_log_store()
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "Bad Name")
    with pytest.raises(
        KitaruUsageError,
        match=r"^KITARU_LOG_STORE_BACKEND 'Bad Name' is not a "
        "valid name",
    ):
        get_log_store()
    for name in ENV:
        monkeypatch.delenv(name)

    for backend in ("journal", "artifact-store"):
        with pytest.raises(
            KitaruUsageError,
            match="is the default log store and cannot be set; run `kitaru log-store reset`",
        ):
            set_log_store(backend, endpoint="http://x")
    with pytest.raises(
        KitaruUsageError,
        match=r"^The log store endpoint must be an http:// or "
        r"https:// URL, got 'localhost:4318'\.$",
    ):
        set_log_store("otlp", endpoint="localhost:4318")
    assert reset_log_store() == saved
    assert get_log_store() == _logstore.LogStoreConfig()
    data = json.loads(file.read_text())
    assert "log_store" not in data and "fast" in data["model_registry"]["aliases"]

    file.write_text("{oops")
    with pytest.raises(KitaruUsageError, match=f"config file {file} is corrupt"):
        get_log_store()
    set_log_store("otlp", endpoint="http://x:1")  # a writer recovers the file
    assert get_log_store().endpoint == "http://x:1"
    assert list(isolated_config.glob("kitaru.json.corrupt-*"))


def test_invalid_settings_do_not_break_a_run(
    runtime: object, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_logstore, "_warned_config", False)
    monkeypatch.setenv("KITARU_LOG_STORE_ENDPOINT", "http://x:1")
    assert research.run("x").wait(timeout=30) == "X"
    err = capfd.readouterr().err
    assert (
        err.count("kitaru: runtime logs are not exported: KITARU_LOG_STORE_BACKEND is required")
        == 1
    )
