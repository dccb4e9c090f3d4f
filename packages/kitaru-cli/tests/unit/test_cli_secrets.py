"""`kitaru secrets set|show|list|delete` and `kitaru model register|list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kitaru.plugins import reset_plugin_manager
from kitaru_cli._secrets import parse_assignments

VALUE = "sk-very-secret-value-42"


@pytest.fixture(autouse=True)
def only_sql_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the journal's plugin: another plugin's work in progress must not matter here."""
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", "sql")
    reset_plugin_manager()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--A=1"], {"A": "1"}),
        (["--A", "1", "--B_2=x=y", "--_c", "-5"], {"A": "1", "B_2": "x=y", "_c": "-5"}),
        (["--URL=http://h/?a=b"], {"URL": "http://h/?a=b"}),
    ],
)
def test_parse_assignments(args: list[str], expected: dict[str, str]) -> None:
    assert parse_assignments(args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Give at least one secret value: --KEY=value (or --KEY value)."),
        (["--A="], "Secret key 'A' needs a non-empty value."),
        (["--A", ""], "Secret key 'A' needs a non-empty value."),
        (["--A"], "Missing value for secret key 'A': use --A=value or --A value."),
        (["--A", "--B=1"], "Missing value for secret key 'A': use --A=value or --A value."),
        (["--A=1", "--A=2"], "Secret key 'A' is given more than once."),
        (
            ["--1A=x"],
            "Invalid secret key '1A': keys look like environment variables "
            "([A-Za-z_][A-Za-z0-9_]*).",
        ),
        (
            ["--my-key=x"],
            "Invalid secret key 'my-key': keys look like environment variables "
            "([A-Za-z_][A-Za-z0-9_]*).",
        ),
        (
            ["--=x"],
            "Invalid secret key '': keys look like environment variables ([A-Za-z_][A-Za-z0-9_]*).",
        ),
        (["value"], "Unexpected argument 'value': give secret values as --KEY=value."),
        (["-A=1"], "Unexpected argument '-A=1': give secret values as --KEY=value."),
    ],
)
def test_bad_assignments(cli, memory_runtime: object, args: list[str], message: str) -> None:
    result = cli("secrets", "set", "creds", *args)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.strip() == f"Error: {message}"
    error = cli("secrets", "set", "creds", *args, "-o", "json").error()
    assert error == {"message": message, "type": "KitaruUsageError"}
    assert cli("secrets", "list", "-o", "json").json()["count"] == 0  # nothing stored


def test_set_show_list_delete(cli, memory_runtime: object) -> None:
    created = cli("secrets", "set", "openai", f"--OPENAI_API_KEY={VALUE}", "--ORG", "acme")
    assert created.exit_code == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[0] == "Created secret: openai"
    assert lines[2] == "  Keys: OPENAI_API_KEY, ORG"
    updated = cli("secrets", "set", "openai", "-o", "json", "--OPENAI_API_KEY", VALUE).json()
    item = updated["item"]
    assert updated["command"] == "secrets.set"
    assert (item["name"], item["keys"], item["result"]) == ("openai", ["OPENAI_API_KEY"], "updated")
    assert item["has_missing_values"] is False
    cli("secrets", "set", "anthropic", "--ANTHROPIC_API_KEY=sk-ant-123")

    for args in (
        ["show", "openai"],
        ["show", "openai", "-o", "json"],
        ["list"],
        ["list", "-o", "json"],
    ):
        result = cli("secrets", *args)
        assert result.exit_code == 0
        assert VALUE not in result.stdout + result.stderr, args

    shown = cli("secrets", "show", "openai", "-o", "json").json()["item"]
    assert shown["values"] == {"OPENAI_API_KEY": None}
    assert shown["id"] == item["id"]
    text = cli("secrets", "show", "openai")
    assert "  OPENAI_API_KEY: ***" in text.stdout
    assert "--show-values" in text.stderr
    revealed = cli("secrets", "show", item["id"], "--show-values", "-o", "json").json()["item"]
    assert revealed["values"] == {"OPENAI_API_KEY": VALUE}
    assert f"  OPENAI_API_KEY: {VALUE}" in cli("secrets", "show", "openai", "--show-values").stdout

    listed = cli("secrets", "list", "-o", "json").json()
    assert [s["name"] for s in listed["items"]] == ["anthropic", "openai"]
    assert listed["items"][0]["keys"] == ["ANTHROPIC_API_KEY"]
    table = cli("secrets", "list").stdout.splitlines()
    assert table[0].split() == ["Name", "Keys", "ID"]
    assert table[1].split()[:2] == ["anthropic", "ANTHROPIC_API_KEY"]

    deleted = cli("secrets", "delete", "anthropic")
    assert deleted.stdout.strip() == "Deleted secret: anthropic"
    missing = cli("secrets", "delete", "anthropic", "-o", "json").error()
    assert missing == {"message": "Secret 'anthropic' was not found.", "type": "NotFoundError"}
    assert cli("secrets", "show", "nope").stderr.strip() == "Error: Secret 'nope' was not found."
    assert cli("secrets", "list", "-o", "json").json()["count"] == 1


def test_empty_list_and_bad_name(cli, memory_runtime: object) -> None:
    assert cli("secrets", "list").stdout.strip() == "No secrets found."
    error = cli("secrets", "set", "bad name", "--A=1", "-o", "json").error()
    assert error["message"].startswith("Invalid secret name 'bad name'")


def test_model_register_and_list(
    cli, memory_runtime: object, isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KITARU_MODEL_REGISTRY", raising=False)
    assert cli("model", "list").stdout.startswith("No model aliases registered.")
    assert cli("model", "list", "-o", "json").json() == {
        "command": "model.list",
        "items": [],
        "count": 0,
    }
    missing = cli("model", "register", "smart", "--model", "openai/gpt-4o", "--secret", "creds")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == (
        "Error: Secret 'creds' does not exist (existing secrets: none). Create it first: "
        "kitaru secrets set creds --KEY=value."
    )
    cli("secrets", "set", "creds", f"--OPENAI_API_KEY={VALUE}")
    fast = cli("model", "register", "fast", "--model", "openai/gpt-4o-mini")
    assert fast.stdout.strip() == "Registered model alias: fast: openai/gpt-4o-mini [default]"
    smart = cli(
        "model", "register", "Smart", "--model", "openai/gpt-4o", "--secret", "creds", "-o", "json"
    ).json()
    assert smart == {
        "command": "model.register",
        "item": {
            "alias": "smart",
            "model": "openai/gpt-4o",
            "secret": "creds",
            "is_default": False,
        },
    }
    assert cli("model", "list").stdout.splitlines() == [
        "fast: openai/gpt-4o-mini [default]",
        "smart: openai/gpt-4o (secret=creds)",
    ]
    monkeypatch.setenv(
        "KITARU_MODEL_REGISTRY",
        json.dumps({"aliases": {"shipped": {"model": "anthropic/claude-x"}}, "default": "shipped"}),
    )
    items = cli("model", "list", "-o", "json").json()["items"]
    assert items == [
        {"alias": "fast", "model": "openai/gpt-4o-mini", "is_default": False},
        {"alias": "shipped", "model": "anthropic/claude-x", "is_default": True},
        {"alias": "smart", "model": "openai/gpt-4o", "secret": "creds", "is_default": False},
    ]
    stored = json.loads((isolated_config / "kitaru.json").read_text())
    assert stored["model_registry"]["default"] == "fast"  # the environment is not persisted
    assert VALUE not in json.dumps(stored)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["register", "fast"], "`--model` is required: the model as provider/model."),
        (
            ["register", "fast", "--model", "gpt-4o"],
            "Model 'gpt-4o' must be written as provider/model.",
        ),
        (
            ["register", "bad alias!", "--model", "openai/x"],
            "Invalid model alias 'bad alias!': "
            "use lower-case letters, digits, '_' and '-', starting with a letter or digit.",
        ),
        (
            ["register", "fast", "--model", "openai/x", "--secret", " "],
            "`--secret` must name a secret.",
        ),
    ],
)
def test_model_bad_input(cli, args: list[str], message: str) -> None:
    result = cli("model", *args, "-o", "json")
    assert result.exit_code == 1
    assert result.error()["message"] == message


def test_model_list_with_a_corrupt_config_file(
    cli, isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_config.mkdir(parents=True)
    (isolated_config / "kitaru.json").write_text("[")
    monkeypatch.setenv("KITARU_MODEL_REGISTRY", '{"aliases": {"env": {"model": "openai/x"}}}')
    result = cli("model", "list")
    assert result.stdout.strip() == "env: openai/x"
    assert "kitaru.json is corrupt" in result.stderr and "aliases are not listed" in result.stderr
    registered = cli("model", "register", "fast", "--model", "openai/y")  # recovers the file
    assert registered.exit_code == 0
    assert "fast: openai/y [default]" in cli("model", "list").stdout
