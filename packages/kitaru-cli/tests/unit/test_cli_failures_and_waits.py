"""What `get`, `run` and `input -i` tell a user about failures, results and pending waits:
where a failure happened, a result as JSON, and which call a pending wait is about."""

from __future__ import annotations

import json
from pathlib import Path

import cli_flows
import pytest
from _helpers import settle, waiting_with_waits

# -- where a failure happened ------------------------------------------------------------------


def test_get_says_where_a_failure_happened_and_where_its_traceback_is(cli, memory_runtime) -> None:
    exec_id = cli("run", "cli_flows:failing_flow", "--args", '{"x": 1}', "-o", "json").json()[
        "item"
    ]["exec_id"]
    settle(exec_id, "failed")
    lines = cli("executions", "get", exec_id).stdout.splitlines()
    source = Path(cli_flows.__file__).read_text().splitlines()
    line = source.index('    raise ValueError(f"boom {x}")') + 1  # in explode()
    assert "  Failure: boom 1" in lines or "  Failure: ValueError: boom 1" in lines
    assert f"  Failed at: {Path(cli_flows.__file__).resolve()}:{line}, in explode" in [
        _resolved(x) for x in lines
    ]
    hint = f"  Traceback: kitaru executions get {exec_id} -o json (failure.traceback)"
    assert hint in lines
    item = cli("executions", "get", exec_id, "-o", "json").json()["item"]
    assert "explode" in item["failure"]["traceback"]


def _resolved(line: str) -> str:
    """``Failed at: PATH:...`` with PATH resolved (the journal records it as imported)."""
    prefix = "  Failed at: "
    if not line.startswith(prefix):
        return line
    path, _, rest = line[len(prefix) :].partition(":")
    return f"{prefix}{Path(path).resolve()}:{rest}"


def test_user_frame_skips_kitaru_stdlib_and_third_party_frames() -> None:
    import kitaru
    from kitaru_cli._frames import user_frame

    core = Path(kitaru.__file__).parent
    trace = (
        "Traceback (most recent call last):\n"
        f'  File "{core / "_engine.py"}", line 118, in _drive\n'
        '  File "/home/me/kitaru/flows.py", line 12, in f\n'  # a user's folder named kitaru
        '  File "/home/me/kitaru/flows.py", line 4, in helper\n'
        '  File "/venv/lib/python3.11/site-packages/httpx/_client.py", line 9, in send\n'
        f'  File "{core / "_checkpoint.py"}", line 598, in _run_live\n'
        "ZeroDivisionError: division by zero\n"
    )
    frame = user_frame(trace)
    assert frame is not None and str(frame) == "/home/me/kitaru/flows.py:4, in helper"
    assert user_frame(f'  File "{core / "_engine.py"}", line 1, in x\n') is None
    assert user_frame(None) is None


@pytest.mark.parametrize(
    ("source", "kind", "line", "text"),
    [
        (
            "import kitaru\n\nraise ValueError('boom at import')\n",
            "ValueError",
            3,
            "boom at import",
        ),
        ("import not_a_module_xyz\n", "ModuleNotFoundError", 1, "No module named"),
        ("import kitaru\nx = (\n", "SyntaxError", 2, ""),
    ],
)
def test_run_names_the_error_type_and_line_when_the_module_fails_to_import(
    cli, memory_runtime, tmp_path: Path, source: str, kind: str, line: int, text: str
) -> None:
    module = tmp_path / "bad_module.py"
    module.write_text(source)
    result = cli("run", f"{module}:f")
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"Error: {kind}: {text}"), first
    assert f"(at {module}:{line}, in <module>; raised while importing the flow's module)" in first
    error = cli("run", f"{module}:f", "-o", "json").error()
    assert (error["type"], error["file"], error["line"]) == (kind, str(module), line)
    assert error["message"] == first.removeprefix("Error: ")


def test_run_leaves_its_own_target_errors_as_they_are(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:not_a_flow")
    assert result.stderr.strip() == (
        "Error: 'not_a_flow' in 'cli_flows' is not a @flow (it is int)."
    )


# -- a result is shown as JSON -----------------------------------------------------------------


def test_get_shows_the_result_as_json_as_run_wait_does(cli, memory_runtime) -> None:
    ran = cli("run", "cli_flows:json_text_flow", "--wait")
    assert ran.exit_code == 0, ran.stderr
    expected = 'Result: {"a": "{\\"mult\\":0}"}'
    assert expected in ran.stdout.splitlines()
    exec_id = cli("executions", "list", "-o", "json").json()["items"][0]["exec_id"]
    assert f"  {expected}" in cli("executions", "get", exec_id).stdout.splitlines()


# -- which call a pending wait is about --------------------------------------------------------

SCHEMA = {"type": "boolean"}


def _tool_waits(memory_runtime) -> str:
    """Two waits of one hitl tool, as the PydanticAI adapter issues them: same question,
    told apart by the tool call's arguments."""
    details = {
        name: {
            "question": "ok?",
            "schema": SCHEMA,
            "metadata": {
                "adapter": "pydantic_ai",
                "tool_name": "delete_rows",
                "tool_call_id": f"call-{name}",
                "tool_args": {"table": table},
            },
        }
        for name, table in (("ask", "users"), ("ask_2", "orders"))
    }
    return waiting_with_waits(memory_runtime, ["ask", "ask_2"], details=details)


def test_get_shows_every_pending_wait_with_schema_and_tool_call(cli, memory_runtime) -> None:
    exec_id = _tool_waits(memory_runtime)
    lines = cli("executions", "get", exec_id).stdout.splitlines()
    for name, table in (("ask", "users"), ("ask_2", "orders")):
        at = lines.index(f"  Pending wait: {name}")
        assert lines[at + 1 : at + 4] == [
            "  Wait question: ok?",
            '  Wait schema: {"type": "boolean"}',
            f'  Wait tool call: delete_rows with arguments {{"table": "{table}"}}',
        ]
        assert lines[at + 4].startswith('  Wait metadata: {"adapter": "pydantic_ai"')
    waits = cli("executions", "get", exec_id, "-o", "json").json()["item"]["waits"]
    assert [(w["name"], w["schema"], w["metadata"]["tool_args"]) for w in waits] == [
        ("ask", SCHEMA, {"table": "users"}),
        ("ask_2", SCHEMA, {"table": "orders"}),
    ]


def test_input_interactive_shows_the_tool_call_being_approved(
    cli, memory_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitaru_cli import _input

    monkeypatch.setattr(_input, "is_interactive_terminal", lambda: True)
    exec_id = _tool_waits(memory_runtime)
    result = cli("executions", "input", exec_id, "-i", input="q\n")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        "Pending wait",
        f"  Execution: {exec_id}",
        "  Flow: manual",
        "  Wait: ask",
        "  Question: ok?",
        '  Schema: {"type": "boolean"}',
    ]
    assert '  Tool call: delete_rows with arguments {"table": "users"}' in lines
    metadata = next(x for x in lines if x.startswith("  Metadata: "))
    assert json.loads(metadata.removeprefix("  Metadata: "))["tool_call_id"] == "call-ask"


def test_wait_rows_show_the_tool_call_of_either_adapter() -> None:
    from kitaru.client import PendingWait
    from kitaru_cli._shapes import wait_rows

    pydantic_ai = PendingWait(
        wait_id="w1", name="ask", metadata={"tool_name": "refund", "tool_args": {"amount": 40}}
    )
    claude = PendingWait(
        wait_id="w2",
        name="approve_bash",
        metadata={"tool_name": "Bash", "tool_input": {"command": "make clean"}},
    )
    assert ("Wait tool call", 'refund with arguments {"amount": 40}') in wait_rows(
        pydantic_ai, prefix="Wait "
    )
    assert ("Wait tool call", 'Bash with arguments {"command": "make clean"}') in wait_rows(
        claude, prefix="Wait "
    )
