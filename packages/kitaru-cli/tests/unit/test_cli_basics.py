"""Global options, the --output convention, error envelopes, and `kitaru plugins`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kitaru_cli import app, build_app, main


def test_version(cli, isolated_config: Path) -> None:
    for flag in ("--version", "-V"):
        result = cli(flag)
        assert result.exit_code == 0
        assert result.stdout.startswith("kitaru ")
    assert not isolated_config.exists()  # no journal opened


def test_no_args_prints_help(cli, isolated_config: Path) -> None:
    result = cli()
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    for command in ("run", "executions", "plugins"):
        assert command in result.stdout
    assert not isolated_config.exists()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_flags(cli, flag: str) -> None:
    assert "Usage" in cli(flag).stdout
    result = cli("executions", flag)
    assert result.exit_code == 0
    for command in ("get", "list", "logs", "input", "replay", "retry", "resume", "cancel"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["executions"],
        ["executions", "input"],
        ["executions", "logs"],
        ["executions", "cancel"],
        ["stack", "create"],
        ["stack", "delete"],
        ["run"],
    ],
    ids=lambda a: " ".join(a) or "root",
)
def test_help_shows_flags_without_a_value_metavar(cli, args: list[str]) -> None:
    result = cli(*args, "--help")
    assert result.exit_code == 0, result.stderr
    assert "<bool>" not in result.stdout  # on/off flags take no value
    assert "--help" in result.stdout


def test_stack_create_shows_its_name_as_required(cli) -> None:
    result = cli("stack", "create", "--help")
    assert "stack create [OPTIONS] {name}" in result.stdout  # {...}: required, [...]: optional
    assert "[required]" in result.stdout
    missing = cli("stack", "create")
    assert missing.exit_code == 2 and "Missing argument 'name'" in missing.stderr


def test_bad_output_format_is_rejected(cli) -> None:
    for args in (
        ["plugins"],
        ["executions", "list"],
        ["executions", "get", "abc123"],
        ["run", "x.py:f"],
    ):
        result = cli(*args, "-o", "yaml")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.strip() == "Error: `--output` must be either `text` or `json`."


def test_output_format_is_case_insensitive(cli) -> None:
    result = cli("plugins", "--output", "JSON")
    assert result.exit_code == 0
    assert result.json()["command"] == "plugins"


def test_plugins_text_and_json(cli, isolated_config: Path) -> None:
    text = cli("plugins")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].split() == ["Name", "Distribution", "Version", "Hooks"]
    assert "kitaru.builtin" in text.stdout
    assert "\x1b[" not in text.stdout  # no colour codes when piped

    data = cli("plugins", "-o", "json").json()
    assert data["command"] == "plugins"
    assert data["count"] == len(data["items"])
    builtin = next(p for p in data["items"] if p["name"] == "kitaru.builtin")
    assert builtin["distribution"] == "kitaru-core"
    assert builtin["version"]
    assert "kitaru_register_backends" in builtin["hooks"]
    assert not isolated_config.exists()  # plugins never open a journal


def test_main_returns_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("kitaru ")
    assert main(["executions", "get", "zz", "-o", "nope"]) == 1
    assert "`--output` must be either" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_build_app_is_fresh_each_time() -> None:
    first, second = build_app(), build_app()
    assert first is not second
    assert app is not first


def test_json_error_envelope_for_unknown_execution(cli, memory_runtime) -> None:
    result = cli("executions", "get", "00000000-0000-0000-0000-000000000000", "-o", "json")
    assert result.exit_code == 1
    error = result.error()
    assert error["type"] == "ExecutionNotFoundError"
    assert "was not found" in error["message"]
    doc = json.loads(result.stderr)
    assert doc["command"] == "executions.get"


def test_text_error_for_unknown_execution(cli, memory_runtime) -> None:
    result = cli("executions", "get", "00000000-0000-0000-0000-000000000000")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Execution '00000000-0000-0000-0000-000000000000'")


def test_memory_is_not_available_yet(cli: Callable[..., Any]) -> None:
    text = cli("memory", "list")
    assert text.exit_code == 1 and "not available yet" in text.stderr
    as_json = cli("memory", "get", "key", "-o", "json")
    assert as_json.exit_code == 1 and as_json.stdout == ""
    error = json.loads(as_json.stderr)["error"]
    assert error["type"] == "KitaruFeatureNotAvailableError"


def test_run_refuses_a_journal_in_a_missing_folder_as_list_does(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "no-such-folder"
    monkeypatch.setenv("KITARU_STORE_URL", f"sqlite:///{folder / 'kitaru.db'}")
    listed = cli("executions", "list")
    ran = cli("run", "cli_flows:simple_flow", "--args", '{"x": 1}')
    for result in (listed, ran):
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: The journal folder '{folder}' does not exist")
    assert not folder.exists()  # nothing submitted, no journal created


def test_a_journal_path_without_a_scheme_is_explained(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_STORE_URL", "/tmp/x/kitaru.db")
    result = cli("executions", "list", "-o", "json")
    assert result.exit_code == 1
    message = result.error()["message"]
    assert "'/tmp/x/kitaru.db' is not a URL" in message
    assert "use 'sqlite:////tmp/x/kitaru.db'" in message
