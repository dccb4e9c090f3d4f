"""Errors of the real ``kitaru`` console script: usage errors in JSON mode, and journal URLs'
passwords masked in error messages."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    ("args", "command", "kind", "message"),
    [
        (
            ["executions", "get", "-o", "json"],
            "executions.get",
            "MissingParameter",
            "Missing argument 'exec_id'.",
        ),
        (
            ["executions", "list", "--limit", "x", "--output=json"],
            "executions.list",
            "BadParameter",
            "Invalid value for '--limit': ",
        ),
        (
            ["executions", "list", "--bogus", "--output", "JSON"],
            "executions.list",
            "NoSuchOption",
            "No such option: --bogus",
        ),
        (["nope", "-ojson"], "kitaru", "UsageError", "No such command 'nope'."),
    ],
)
def test_usage_errors_are_json_errors_with_output_json(
    kitaru_exe, args: list[str], command: str, kind: str, message: str
) -> None:
    """Typer's and click's own errors follow `-o json` as every other error does: the JSON
    error envelope on stderr, nothing on stdout; click's exit code 2 for usage errors."""
    result = kitaru_exe(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    document = json.loads(result.stderr)
    assert document["command"] == command
    assert document["error"]["type"] == kind
    assert document["error"]["message"].startswith(message)
    assert document["error"]["usage"].startswith("Usage: kitaru")


def test_usage_errors_stay_text_without_output_json(kitaru_exe) -> None:
    result = kitaru_exe("executions", "get")
    assert result.exit_code == 2 and result.stdout == ""
    assert "Missing argument 'exec_id'." in result.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stderr)


def test_a_one_letter_password_is_masked_in_the_url_only(kitaru_exe) -> None:
    """The driver's message mentions "port" and "accepting": a password `p` is masked as the
    URL's password, not inside those words."""
    pytest.importorskip("psycopg")
    kitaru_exe.env["KITARU_STORE_URL"] = "postgresql://u:p@127.0.0.1:1/k"  # nothing listens
    result = kitaru_exe("executions", "list", "-o", "json")
    assert result.exit_code == 1
    message = result.error()["message"]
    assert message.startswith("The journal at postgresql+psycopg://u:***@127.0.0.1:1/k failed:")
    assert "port 1 failed" in message and "accepting" in message, message
    assert "***ort" not in message and "u:p@" not in message
