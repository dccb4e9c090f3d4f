"""`kitaru status`, `init`, `login` and `logout`; masking of secrets in what status shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kitaru.plugins import reset_plugin_manager
from kitaru_cli._mask import mask_env_value, mask_secret, mask_url

LONG_KEY = "sk-proj-abcdefghijklmnop"


@pytest.fixture(autouse=True)
def only_sql_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the journal's plugin: another plugin's work in progress must not matter here."""
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", "sql")
    reset_plugin_manager()


def test_masking_rules() -> None:
    assert mask_secret(LONG_KEY) == "sk-p***"
    assert mask_secret("short-key") == "***"
    assert mask_env_value("OPENAI_API_KEY", LONG_KEY) == "sk-p***"
    for name in ("X_TOKEN", "my_secret", "DB_PASSWORD", "GCP_CREDENTIALS", "AUTH_HEADER"):
        assert mask_env_value(name, "abc") == "***"
    assert mask_env_value("KITARU_STORE_URL", "postgresql+psycopg://u:pw@db:5432/k") == (
        "postgresql+psycopg://u:***@db:5432/k"
    )
    assert mask_env_value("KITARU_CONFIG_PATH", "/x/y") == "/x/y"
    assert mask_url("sqlite:////tmp/k.db") == "sqlite:////tmp/k.db"
    assert mask_url("http://[::1]:80/x") == "http://[::1]:80/x"


def test_status_on_a_fresh_config(
    cli, isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", LONG_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "tiny")
    monkeypatch.setenv("KITARU_LOG_STORE_API_KEY", "log-key-0123456789")
    monkeypatch.setenv("KITARU_LOG_STORE_BACKEND", "otlp")
    monkeypatch.setenv("KITARU_LOG_STORE_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("UNRELATED_TOKEN", "nope")
    text = cli("status")
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    db = isolated_config / "kitaru.db"
    assert lines[:14] == [
        "Kitaru status",
        f"  SDK version: {lines[1].split(': ')[1]}",
        f"  CLI version: {lines[2].split(': ')[1]}",
        f"  Config directory: {isolated_config}",
        f"  Config file: {isolated_config / 'kitaru.json'}",
        "  Connection: local database",
        f"  Journal: sqlite:///{db}",
        "  Journal source: default",
        "  Journal status: not created yet (the first run creates it)",
        f"  Artifact store: {isolated_config / 'artifacts'}",
        "  Active stack: default (local)",
        "  Plugins: kitaru.builtin, sql",
        "  Log store: otlp → http://collector:4318/v1/logs, API key *** (environment)",
        "Environment",
    ]
    env = dict(line.strip().split(": ", 1) for line in lines[14:])
    assert env["OPENAI_API_KEY"] == "sk-p***"
    assert env["ANTHROPIC_API_KEY"] == "***"
    assert env["KITARU_LOG_STORE_API_KEY"] == "log-***"
    assert "UNRELATED_TOKEN" not in env
    assert LONG_KEY not in text.stdout and "log-key-0123456789" not in text.stdout
    assert not isolated_config.exists()  # status created nothing

    item = cli("status", "-o", "json").json()["item"]
    assert (item["connection"], item["store_url"], item["journal_status"]) == (
        "local database",
        f"sqlite:///{db}",
        "not_created",
    )
    assert item["log_store"] == {
        "backend": "otlp",
        "endpoint": "http://collector:4318",
        "api_key_configured": True,
        "source": "environment",
        "export_url": "http://collector:4318/v1/logs",
    }
    assert [p["name"] for p in item["plugins"]] == ["kitaru.builtin", "sql"]
    assert item["environment"]["OPENAI_API_KEY"] == "sk-p***"
    assert "errors" not in item


def test_status_reports_a_journal_folder_that_does_not_exist(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "typo"
    monkeypatch.setenv("KITARU_STORE_URL", f"sqlite:///{folder / 'kitaru.db'}")
    item = cli("status", "-o", "json").json()["item"]
    assert item["journal_status"] == "error"
    assert item["errors"][0]["message"].startswith(f"The journal folder '{folder}' does not exist")
    assert not folder.exists()


def test_status_reports_what_it_cannot_open(
    cli, isolated_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.db"
    broken.write_text("this is not a database")
    monkeypatch.setenv("KITARU_STORE_URL", f"sqlite:///{broken}")
    text = cli("status")
    assert text.exit_code == 0
    assert "  Journal source: environment (KITARU_STORE_URL)" in text.stdout
    assert (
        f"  Journal status: error: The journal at sqlite:///{broken} failed: DatabaseError: "
        "file is not a database"
    ) in text.stdout
    item = cli("status", "-o", "json").json()["item"]
    assert item["journal_status"] == "error"
    assert item["errors"][0]["part"] == "journal"

    monkeypatch.setenv("KITARU_STORE_URL", "postgresql+psycopg://me:hunter2@127.0.0.1:1/k")
    item = cli("status", "-o", "json").json()["item"]
    assert item["store_url"] == "postgresql+psycopg://me:***@127.0.0.1:1/k"
    assert item["environment"]["KITARU_STORE_URL"] == item["store_url"]
    assert "hunter2" not in json.dumps(item)

    monkeypatch.delenv("KITARU_STORE_URL")
    isolated_config.mkdir()
    file = isolated_config / "kitaru.json"
    file.write_text("{oops")
    text = cli("status")
    assert text.exit_code == 0
    assert f"  Config file: error: The Kitaru config file {file} is corrupt" in text.stdout
    assert "  Active stack: unavailable (the config file is corrupt, see above)" in text.stdout
    parts = {e["part"] for e in cli("status", "-o", "json").json()["item"]["errors"]}
    assert {"config_file", "journal", "active_stack", "log_store"} <= parts


def test_status_with_an_existing_journal(cli, isolated_config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    login = cli("login", f"sqlite:///{other}")
    assert login.stdout.strip() == f"Connected to journal: sqlite:///{other}"
    item = cli("status", "-o", "json").json()["item"]
    assert (item["store_url"], item["store_source"], item["journal_status"]) == (
        f"sqlite:///{other}",
        "kitaru login",
        "ok",
    )


def test_login_refuses_a_journal_in_a_missing_folder(
    cli, isolated_config: Path, tmp_path: Path
) -> None:
    """A typo'd folder is refused as KITARU_STORE_URL is: nothing is created or saved."""
    folder = tmp_path / "nope3"
    url = f"sqlite:///{folder}/k.db"
    refused = cli("login", url)
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith(
        f"Error: The journal folder '{folder}' does not exist (journal {url}, given to kitaru "
        "login). Check the path for a typo"
    )
    assert cli("login", url, "-o", "json").error()["type"] == "KitaruUsageError"
    assert not folder.exists()
    config = isolated_config / "kitaru.json"
    assert not config.exists() or "connection" not in json.loads(config.read_text())


def test_init(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    result = cli("init", str(project))
    assert result.stdout.splitlines() == [
        f"Initialized Kitaru project: {project}",
        f"  Project directory: {project / '.kitaru'}",
    ]
    assert (project / ".kitaru").is_dir()
    again = cli("init", str(project), "-o", "json")
    assert again.error() == {
        "message": f"{project} is already a Kitaru project ({project / '.kitaru'} exists).",
        "type": "KitaruUsageError",
    }
    missing = cli("init", str(tmp_path / "nope"))
    assert missing.stderr.strip() == f"Error: '{tmp_path / 'nope'}' is not a directory."
    (tmp_path / "file.txt").write_text("x")
    assert cli("init", str(tmp_path / "file.txt")).exit_code == 1
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert cli("init", "-o", "json").json() == {
        "command": "init",
        "item": {"path": str(here), "repository_directory": str(here / ".kitaru")},
    }


def test_login_and_logout(
    cli, isolated_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = f"sqlite:///{isolated_config / 'kitaru.db'}"
    other = f"sqlite:///{tmp_path / 'team.db'}"
    assert cli("logout").stdout.splitlines() == [
        "No saved journal to log out of.",
        f"Using the embedded default journal: {default}",
    ]
    connected = cli("login", other, "-o", "json").json()
    assert connected == {
        "command": "login",
        "item": {"action": "connected", "connection": "local database", "store_url": other},
    }
    saved = json.loads((isolated_config / "kitaru.json").read_text())
    assert saved["connection"] == {"store_url": other}
    reset = cli("login", "-o", "json").json()["item"]
    assert reset == {
        "action": "reset",
        "connection": "local database",
        "store_url": default,
        "previous_store_url": other,
    }
    assert cli("login", "-o", "json").json()["item"]["action"] == "unchanged"

    cli("login", other)
    out = cli("logout")
    assert out.stdout.splitlines() == [
        f"Logged out of {other}",
        f"Using the embedded default journal: {default}",
    ]
    again = cli("logout", "-o", "json").json()["item"]
    assert again == {"logged_out": False, "connection": "local database", "store_url": default}

    server = cli("login", "https://kitaru.example.com", "-o", "json")
    assert server.error() == {
        "message": "Connecting to a Kitaru server (https://kitaru.example.com) is not available "
        "yet. Connect to a journal URL instead (sqlite:///... or "
        "postgresql+psycopg://...).",
        "type": "KitaruFeatureNotAvailableError",
    }
    bad = cli("login", "nope://x")
    assert bad.exit_code == 1 and "No installed backend serves 'nope://'" in bad.stderr
    refused = cli("login", "postgresql+psycopg://me:hunter2@127.0.0.1:1/k")
    assert refused.exit_code == 1 and "hunter2" not in refused.stderr
    assert "connection" not in json.loads((isolated_config / "kitaru.json").read_text())

    monkeypatch.setenv("KITARU_STORE_URL", other)
    warned = cli("login")
    assert f"Warning: KITARU_STORE_URL is set ({other}) and takes precedence" in warned.stderr


def test_new_commands_are_listed_and_their_help_imports_no_core(cli) -> None:
    help_text = cli("--help").stdout
    for command in ("init", "login", "logout", "status", "log-store", "stack", "secrets", "model"):
        assert command in help_text
    code = (
        "import sys; from kitaru_cli.app import main\n"
        "for argv in (['stack', '--help'], ['secrets', 'set', '-h'], ['model', '--help'],"
        " ['log-store', 'set', '--help'], ['status', '-h'], ['login', '-h'], ['init', '-h']):\n"
        "    main(argv)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('kitaru', 'sqlalchemy', 'kitaru_backend_sql'))\n"
        "print('LOADED:' + ','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "LOADED:"
