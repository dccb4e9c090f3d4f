"""`kitaru log-store set|show|reset`: settings, precedence, validation; the API key is never
printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kitaru.plugins import reset_plugin_manager

KEY = "otlp-api-key-0123456789"
ENV = ("KITARU_LOG_STORE_BACKEND", "KITARU_LOG_STORE_ENDPOINT", "KITARU_LOG_STORE_API_KEY")


@pytest.fixture(autouse=True)
def only_sql_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the journal's plugin: another plugin's work in progress must not matter here."""
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", "sql")
    reset_plugin_manager()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_default_set_show_reset(cli, isolated_config: Path) -> None:
    shown = cli("log-store", "show")
    assert shown.stdout.splitlines() == [
        "Log store",
        "  Backend: journal",
        "  Source: default",
        "  Active stack: default (keeps logs in the journal)",
        "Runtime logs are kept in the journal only.",
    ]
    assert cli("log-store", "show", "-o", "json").json() == {
        "command": "log-store.show",
        "item": {
            "backend": "journal",
            "api_key_configured": False,
            "source": "default",
            "active_stack_name": "default",
            "active_stack_backend": "journal",
        },
    }

    result = cli(
        "log-store", "set", "otlp", "--endpoint", "http://127.0.0.1:4318/", "--api-key", KEY
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Log store",
        "  Backend: otlp",
        "  Endpoint: http://127.0.0.1:4318",
        "  Export URL: http://127.0.0.1:4318/v1/logs",
        "  API key: ***",
        "  Source: global user config",
        "  Active stack: default (keeps logs in the journal)",
        "Runtime logs are kept in the journal and also exported to http://127.0.0.1:4318/v1/logs.",
    ]
    item = cli("log-store", "show", "-o", "json").json()["item"]
    assert item == {
        "backend": "otlp",
        "endpoint": "http://127.0.0.1:4318",
        "api_key_configured": True,
        "source": "global user config",
        "export_url": "http://127.0.0.1:4318/v1/logs",
        "active_stack_name": "default",
        "active_stack_backend": "journal",
    }
    for args in (
        ["log-store", "show"],
        ["log-store", "show", "-o", "json"],
        ["status"],
        ["status", "-o", "json"],
        ["stack", "show", "default", "-o", "json"],
    ):
        out = cli(*args)
        assert KEY not in out.stdout + out.stderr, args
    stored = json.loads((isolated_config / "kitaru.json").read_text())["log_store"]
    assert stored == {"backend": "otlp", "endpoint": "http://127.0.0.1:4318", "api_key": KEY}

    reset = cli("log-store", "reset", "-o", "json").json()
    assert reset["command"] == "log-store.reset"
    assert (reset["item"]["backend"], reset["item"]["source"]) == ("journal", "default")
    assert "log_store" not in json.loads((isolated_config / "kitaru.json").read_text())
    assert cli("log-store", "reset").stdout.splitlines()[1] == "  Backend: journal"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["otlp"], "`--endpoint` is required: the OTLP/HTTP URL to export logs to."),
        (
            ["otlp", "--endpoint", "localhost:4318"],
            "The log store endpoint must be an http:// or https:// URL, got 'localhost:4318'.",
        ),
        (
            ["otlp", "--endpoint", "grpc://h:4317"],
            "The log store endpoint must be an http:// or https:// URL, got 'grpc://h:4317'.",
        ),
        (
            ["OTLP", "--endpoint", "http://h"],
            "Log store backend 'OTLP' is not a valid name: use "
            "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit.",
        ),
        (
            ["journal", "--endpoint", "http://h"],
            "'journal' is the default log store and cannot "
            "be set; run `kitaru log-store reset` (or call reset_log_store()) to go back to it.",
        ),
        (
            ["artifact-store", "--endpoint", "http://h"],
            "'artifact-store' is the default log "
            "store and cannot be set; run `kitaru log-store reset` (or call reset_log_store()) to "
            "go back to it.",
        ),
        (
            ["otlp", "--endpoint", "http://h", "--api-key", " "],
            "The log store API key must be a non-empty single-line string.",
        ),
    ],
)
def test_set_rejects_bad_input(cli, isolated_config: Path, args: list[str], message: str) -> None:
    text = cli("log-store", "set", *args)
    assert (text.exit_code, text.stdout, text.stderr.strip()) == (1, "", f"Error: {message}")
    assert cli("log-store", "set", *args, "-o", "json").error() == {
        "message": message,
        "type": "KitaruUsageError",
    }
    assert not isolated_config.exists()


def test_environment_wins_and_is_validated(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("log-store", "set", "otlp", "--endpoint", "http://saved:4318")
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "datadog")
    monkeypatch.setenv("KITARU_LOG_STORE_ENDPOINT", "https://otlp.example.com")
    monkeypatch.setenv("KITARU_LOG_STORE_API_KEY", KEY)
    shown = cli("log-store", "show", "-o", "json")
    item = shown.json()["item"]
    assert (item["backend"], item["endpoint"], item["source"], item["api_key_configured"]) == (
        "datadog",
        "https://otlp.example.com",
        "environment",
        True,
    )
    assert item["warning"] == (
        "KITARU_LOG_STORE_BACKEND/ENDPOINT/API_KEY override the log "
        "store saved in the user config file (otlp at http://saved:4318)."
    )
    assert (
        "Warning: KITARU_LOG_STORE_BACKEND/ENDPOINT/API_KEY override"
        in cli("log-store", "show").stderr
    )
    set_again = cli("log-store", "set", "otlp", "--endpoint", "http://other:4318")
    assert "take precedence over this setting" in set_again.stderr
    assert "  Source: environment" in set_again.stdout
    assert KEY not in set_again.stdout + set_again.stderr

    monkeypatch.delenv("KITARU_LOG_STORE_BACKEND")
    error = cli("log-store", "show", "-o", "json").error()
    assert error == {
        "message": "KITARU_LOG_STORE_BACKEND is required when "
        "KITARU_LOG_STORE_ENDPOINT or KITARU_LOG_STORE_API_KEY is set.",
        "type": "KitaruUsageError",
    }
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "artifact-store")
    assert cli("log-store", "show").stderr.strip() == (
        "Error: KITARU_LOG_STORE_ENDPOINT and KITARU_LOG_STORE_API_KEY cannot be used with the "
        "default log store ('journal')."
    )


def test_writers_keep_the_other_sections(
    cli, memory_runtime: object, isolated_config: Path
) -> None:
    cli("stack", "create", "research")
    cli("model", "register", "fast", "--model", "openai/gpt-4o-mini")
    cli("log-store", "set", "otlp", "--endpoint", "http://h:4318")
    cli("login", "sqlite:///" + str(isolated_config.parent / "other.db"))
    data = json.loads((isolated_config / "kitaru.json").read_text())
    assert set(data) == {
        "version",
        "stacks",
        "active_stack",
        "model_registry",
        "log_store",
        "connection",
    }
    cli("log-store", "reset")
    cli("logout")
    data = json.loads((isolated_config / "kitaru.json").read_text())
    assert set(data) == {"version", "stacks", "active_stack", "model_registry"}


def test_corrupt_file_is_reported_then_recovered(cli, isolated_config: Path) -> None:
    isolated_config.mkdir(parents=True)
    file = isolated_config / "kitaru.json"
    file.write_text('{"log_store": ')
    shown = cli("log-store", "show")
    assert shown.exit_code == 1
    assert shown.stderr.startswith(f"Error: The Kitaru config file {file} is corrupt")
    assert cli("log-store", "reset").exit_code == 0
    assert json.loads(file.read_text()) == {"version": 1}
    file.write_text("[1, 2]")
    assert cli("log-store", "show", "-o", "json").error()["message"] == (
        f"The Kitaru config file {file} must hold a JSON object."
    )
    assert cli("log-store", "set", "otlp", "--endpoint", "http://h").exit_code == 0
    assert cli("log-store", "show", "-o", "json").json()["item"]["endpoint"] == "http://h"
