"""`kitaru stack list|current|show|use|create|delete`: text, JSON envelopes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kitaru.plugins import reset_plugin_manager


@pytest.fixture(autouse=True)
def only_sql_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the journal's plugin: another plugin's work in progress must not matter here."""
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", "sql")
    reset_plugin_manager()


def test_list_and_current_on_a_fresh_config(cli, isolated_config: Path) -> None:
    text = cli("stack", "list")
    assert text.exit_code == 0
    assert text.stdout.splitlines() == [
        "Active  Name     Type   ID",
        "*       default  local  default",
    ]
    data = cli("stack", "list", "-o", "json").json()
    assert data == {
        "command": "stack.list",
        "items": [
            {
                "id": "default",
                "name": "default",
                "is_active": True,
                "type": "local",
                "is_managed": False,
                "labels": {},
            }
        ],
        "count": 1,
    }
    current = cli("stack", "current")
    assert current.stdout.splitlines()[:4] == [
        "Active stack",
        "  Name: default",
        "  ID: default",
        "  Type: local",
    ]
    assert cli("stack", "current", "-o", "json").json()["item"]["name"] == "default"
    assert not isolated_config.exists()  # reading stacks writes nothing


def test_create_use_show_delete(cli, memory_runtime: object, isolated_config: Path) -> None:
    created = cli("stack", "create", "research", "--label", "team=ml", "--label", "tier = gpu")
    assert created.exit_code == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[0] == "Created stack: research (local)"
    assert lines[1].startswith("  ID: ")
    assert lines[2] == "  Labels: kitaru.managed=true, team=ml, tier=gpu"
    assert lines[3] == "Active stack: default → research"

    quiet = cli("stack", "create", "spare", "--no-activate", "-o", "json").json()
    assert quiet["command"] == "stack.create"
    item = quiet["item"]
    assert (item["name"], item["is_active"], item["type"], item["is_managed"]) == (
        "spare",
        False,
        "local",
        True,
    )
    assert (item["previous_active_stack"], item["stack_type"]) == ("research", "local")
    assert "Active stack" not in cli("stack", "create", "third", "--no-activate").stdout

    listed = cli("stack", "list", "-o", "json").json()
    assert [(s["name"], s["is_active"]) for s in listed["items"]] == [
        ("default", False),
        ("research", True),
        ("spare", False),
        ("third", False),
    ]

    used = cli("stack", "use", "spare")
    assert used.stdout.strip() == "Active stack: research → spare"
    again = cli("stack", "use", item["id"], "-o", "json").json()["item"]  # by id
    assert (again["name"], again["previous_active_stack"]) == ("spare", "spare")
    assert cli("stack", "use", "spare").stdout.strip() == "Active stack: spare (unchanged)"

    shown = cli("stack", "show", "research", "-o", "json").json()["item"]
    assert shown["labels"] == {"team": "ml", "tier": "gpu", "kitaru.managed": "true"}
    roles = {c["role"]: c for c in shown["components"]}
    assert set(roles) == {"orchestrator", "journal", "artifact_store", "log_store"}
    assert roles["log_store"]["backend"] == "journal"
    text = cli("stack", "show", "research").stdout
    assert text.splitlines()[0] == "Stack: research"
    assert "  Log store: journal (runtime logs stay in the journal)" in text

    refused = cli("stack", "delete", "spare")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: Stack 'spare' is active.")
    assert "pass --force" in refused.stderr
    deleted = cli("stack", "delete", "spare", "--force")
    assert deleted.stdout.splitlines() == ["Deleted stack: spare", "Active stack: spare → default"]
    gone = cli("stack", "delete", "third", "--recursive", "-o", "json").json()
    assert gone == {
        "command": "stack.delete",
        "item": {
            "deleted_stack": "third",
            "components_deleted": [],
            "new_active_stack": "default",
            "recursive": True,
        },
    }
    stored = json.loads((isolated_config / "kitaru.json").read_text())
    assert sorted(stored["stacks"]) == ["research"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", " "], "A stack name is required: kitaru stack create NAME."),
        (
            ["create", "x", "--label", "novalue"],
            "`--label` must look like KEY=VALUE, got 'novalue'.",
        ),
        (
            ["create", "x", "--label", "a=1", "--label", "a=2"],
            "`--label` 'a' is given more than once.",
        ),
        (
            ["create", "k8s", "--type", "kubernetes"],
            "Stack type 'kubernetes' is not installed. Installed stack types: local.",
        ),
        (
            ["create", "bad name"],
            "Invalid stack name 'bad name': use letters, digits, '_', '-' "
            "and '.', starting with a letter or digit.",
        ),
        (["use", "nope"], "Unknown stack 'nope'. Available stacks: default."),
        (["show", "nope"], "Unknown stack 'nope'. Available stacks: default."),
        (["delete", "default", "--force"], "The built-in 'default' stack cannot be deleted."),
    ],
)
def test_bad_input(cli, memory_runtime: object, args: list[str], message: str) -> None:
    text = cli("stack", *args)
    assert (text.exit_code, text.stdout) == (1, "")
    assert text.stderr.strip() == f"Error: {message}"
    error = cli("stack", *args, "-o", "json")
    assert error.exit_code == 1
    assert error.error()["message"] == message


def test_existing_name_is_a_state_error(cli, memory_runtime: object) -> None:
    cli("stack", "create", "dup")
    error = cli("stack", "create", "dup", "-o", "json").error()
    assert error == {"message": "A stack named 'dup' already exists.", "type": "KitaruStateError"}


def test_corrupt_config_file_is_reported_and_recovered(
    cli, memory_runtime: object, isolated_config: Path
) -> None:
    isolated_config.mkdir(parents=True)
    file = isolated_config / "kitaru.json"
    file.write_text("{not json")
    for args in (["stack", "list"], ["stack", "current"], ["log-store", "show"]):
        result = cli(*args, "-o", "json")
        assert result.exit_code == 1
        assert f"The Kitaru config file {file} is corrupt" in result.error()["message"]
    created = cli("stack", "create", "fresh")  # a writer recovers the file
    assert created.exit_code == 0, created.stderr
    assert cli("stack", "current", "-o", "json").json()["item"]["name"] == "fresh"
    assert len(list(isolated_config.glob("kitaru.json.corrupt-*"))) == 1
