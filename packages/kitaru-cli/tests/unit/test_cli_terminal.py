"""Rich rendering when stdout is a terminal."""

from __future__ import annotations

import pytest
from _helpers import waiting_with_waits


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> None:
    from kitaru_cli import _output

    monkeypatch.setattr(_output, "stdout_is_tty", lambda: True)


def test_get_renders_a_panel(cli, memory_runtime, tty) -> None:
    exec_id = waiting_with_waits(memory_runtime, ["approval"])
    result = cli("executions", "get", exec_id)
    assert result.exit_code == 0
    assert "╭" in result.stdout and "Execution ID" in result.stdout
    assert "\x1b[" not in result.stdout


def test_list_renders_a_table(cli, memory_runtime, tty) -> None:
    exec_id = waiting_with_waits(memory_runtime, ["approval"])
    result = cli("executions", "list")
    assert "┃" in result.stdout or "│" in result.stdout
    assert exec_id in result.stdout


def test_json_is_never_decorated(cli, memory_runtime, tty) -> None:
    waiting_with_waits(memory_runtime, ["approval"])
    assert cli("executions", "list", "-o", "json").json()["count"] == 1


def test_json_is_indented_on_a_terminal_and_compact_when_piped(
    cli, memory_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting_with_waits(memory_runtime, ["approval"])
    piped = cli("executions", "list", "-o", "json").stdout
    assert piped.count("\n") == 1
    from kitaru_cli import _output

    monkeypatch.setattr(_output, "stdout_is_tty", lambda: True)
    pretty = cli("executions", "list", "-o", "json").stdout
    assert pretty.startswith('{\n  "command": "executions.list"')
