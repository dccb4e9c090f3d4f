"""`kitaru run` and `kitaru executions ...` on the in-memory journal (CliRunner)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _helpers import settle, waiting_with_waits

SUMMARY_KEYS = {
    "exec_id",
    "flow_id",
    "flow_name",
    "status",
    "stack_name",
    "metadata",
    "checkpoint_count",
    "artifact_count",
}


@pytest.fixture
def waiting(cli, memory_runtime) -> str:
    result = cli("run", "cli_flows:approve_flow", "--args", '{"x": 2}', "-o", "json")
    assert result.exit_code == 0, result.stderr
    item = result.json()["item"]
    settle(item["exec_id"], "waiting")
    return item["exec_id"]


def snapshot(cli, memory_runtime) -> list[dict]:
    return cli("executions", "list", "-o", "json").json()["items"]


# -- run ------------------------------------------------------------------------------------


def test_run_json_item(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:approve_flow", "--args", '{"x": 2}', "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert doc["command"] == "run"
    item = doc["item"]
    assert set(item) == {"exec_id", "target", "status", "execution"}
    assert item["target"] == "cli_flows:approve_flow"
    assert item["execution"]["exec_id"] == item["exec_id"]
    assert item["execution"]["flow_name"] == "approve_flow"
    settle(item["exec_id"], "waiting")


def test_run_text(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:simple_flow", "--args", '{"x": 1}')
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Submitted execution\n  Execution ID: ")
    assert "kitaru executions logs" in result.stderr
    found = re.search(r"Execution ID: (\S+)", result.stdout)
    assert found is not None
    settle(found.group(1), "completed")


def test_run_wait_prints_result(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:simple_flow", "--args", '{"x": 4}', "--wait")
    assert result.exit_code == 0, result.stderr
    assert "Result: 8" in result.stdout
    data = cli("run", "cli_flows:simple_flow", "--args", '{"x": 5}', "--wait", "-o", "json")
    assert data.exit_code == 0
    item = data.json()["item"]
    assert item["status"] == "completed"
    assert item["result"] == 10


def test_run_wait_failure_exits_1(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:failing_flow", "--args", '{"x": 1}', "--wait", "-o", "json")
    assert result.exit_code == 1
    error = result.error()
    assert error["type"] == "KitaruUserCodeError"
    assert "boom 1" in error["message"]
    assert "kitaru executions retry" in error["message"]
    text = cli("run", "cli_flows:failing_flow", "--args", '{"x": 2}', "--wait")
    assert text.exit_code == 1
    assert "Error: Execution" in text.stderr and "boom 2" in text.stderr
    # Where it failed (the user's frame), before the error itself.
    assert "Failed at: " in text.stderr and "cli_flows.py:" in text.stderr
    assert text.stderr.index("Failed at: ") < text.stderr.index("Error: Execution")


def test_a_usage_failure_says_to_fix_the_code_before_retrying(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:wait_in_checkpoint_flow", "--wait", "-o", "json")
    assert result.exit_code == 1
    error = result.error()
    assert error["type"] == "KitaruUserCodeError"
    assert "Call wait() in the flow body instead" in error["message"]
    assert "usage error" in error["message"] and "Fix the code" in error["message"]
    exec_id = cli("executions", "list", "-o", "json").json()["items"][0]["exec_id"]
    assert f"kitaru executions retry {exec_id}" in error["message"]
    item = cli("executions", "get", exec_id, "-o", "json").json()["item"]
    assert item["failure"]["origin"] == "usage"
    followed = cli("executions", "logs", exec_id, "--follow")
    assert followed.exit_code == 1
    assert (
        "A usage error: fix the code (or the setting) the message names, then retry"
        in followed.stdout
    )
    event = cli("executions", "logs", exec_id, "--follow", "-o", "json").stdout.splitlines()[-1]
    assert json.loads(event)["item"]["recovery_command"] == f"kitaru executions retry {exec_id}"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("cli_flows", "Flow target must use `<module_or_file>:<flow_name>` format"),
        ("cli_flows:", "Flow target must use `<module_or_file>:<flow_name>` format"),
        (":approve_flow", "Flow target must use `<module_or_file>:<flow_name>` format"),
        ("no_such_module_xyz:f", "Cannot import module 'no_such_module_xyz'"),
        ("cli_flows:missing", "'cli_flows' has no attribute 'missing'"),
        ("cli_flows:not_a_flow", "'not_a_flow' in 'cli_flows' is not a @flow"),
        ("missing_file.py:f", "Flow file 'missing_file.py' does not exist"),
    ],
)
def test_run_bad_targets(cli, memory_runtime, target: str, message: str) -> None:
    result = cli("run", target, "-o", "json")
    assert result.exit_code == 1
    error = result.error()
    assert message in error["message"]
    assert error["type"] == "KitaruUsageError"
    assert snapshot(cli, memory_runtime) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("{x: 1}", "Invalid JSON for `--args`"),
        ("[1, 2]", "`--args` must be a JSON object"),
        ('{"y": 1}', "Flow 'approve_flow' has no parameter 'y'. Parameters: x."),
    ],
)
def test_run_bad_args(cli, memory_runtime, args: str, message: str) -> None:
    result = cli("run", "cli_flows:approve_flow", "--args", args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert snapshot(cli, memory_runtime) == []


# -- get / list -----------------------------------------------------------------------------


def test_get_text_rows(cli, waiting: str) -> None:
    result = cli("executions", "get", waiting)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Execution"
    labels = [line.split(":", 1)[0].strip() for line in lines[1:]]
    assert labels == [
        "Execution ID",
        "Flow",
        "Status",
        "Started",
        "Ended",
        "Stack",
        "Pending wait",
        "Wait question",
        "Wait schema",
        "Checkpoints",
    ]
    assert "  Status: waiting" in lines
    assert "  Pending wait: approval" in lines
    assert "  Wait question: How much?" in lines
    assert "  Checkpoints: double (completed)" in lines


def test_get_json_full_shape(cli, waiting: str) -> None:
    doc = cli("executions", "get", waiting[:8], "-o", "json").json()
    assert doc["command"] == "executions.get"
    item = doc["item"]
    assert set(item) >= SUMMARY_KEYS
    assert {"frozen_execution_spec", "checkpoints", "artifacts"} <= set(item)
    assert item["exec_id"] == waiting
    assert item["checkpoint_count"] == 1 and item["artifact_count"] >= 1
    assert "ended_at" not in item and "failure" not in item  # None fields omitted
    wait = item["pending_wait"]
    assert wait["name"] == "approval" and wait["schema"] == {"type": "integer"}
    [call] = item["checkpoints"]
    assert {"call_id", "name", "status", "attempts", "artifacts"} <= set(call)
    assert call["name"] == "double" and call["status"] == "completed"


def test_list_json_summaries_and_filters(cli, memory_runtime, waiting: str) -> None:
    result = cli("run", "cli_flows:simple_flow", "--args", '{"x": 3}', "--wait")
    assert result.exit_code == 0
    doc = cli("executions", "list", "-o", "json").json()
    assert doc["command"] == "executions.list"
    assert doc["count"] == 2 == len(doc["items"])
    for item in doc["items"]:
        assert set(item) >= SUMMARY_KEYS
        assert "checkpoints" not in item and "frozen_execution_spec" not in item
        assert item["checkpoint_count"] == 1
    assert doc["items"][0]["flow_name"] == "simple_flow"  # newest first
    only = cli("executions", "list", "--status", "WAITING", "-o", "json").json()
    assert [i["exec_id"] for i in only["items"]] == [waiting]
    flow = cli("executions", "list", "--flow", "simple_flow", "-o", "json").json()
    assert [i["flow_name"] for i in flow["items"]] == ["simple_flow"]
    assert cli("executions", "list", "--limit", "1", "-o", "json").json()["count"] == 1


def test_summary_equals_the_generic_conversion(cli, memory_runtime, waiting: str) -> None:
    """The hand-written summary (fast path for 10,000 rows) is core's conversion, field for
    field: waiting (pending wait), failed (failure) and completed executions, with counts."""
    from kitaru import KitaruClient
    from kitaru.client import to_jsonable
    from kitaru_cli import _shapes

    cli("run", "cli_flows:failing_flow", "--args", '{"x": 1}', "--wait")
    cli("run", "cli_flows:simple_flow", "--args", '{"x": 1}', "--wait")
    listed = KitaruClient().executions.list()
    assert {e.status.value for e in listed} == {"waiting", "failed", "completed"}
    fields = (
        "exec_id",
        "flow_id",
        "flow_name",
        "status",
        "started_at",
        "ended_at",
        "stack_name",
        "status_reason",
        "pending_wait",
        "failure",
        "metadata",
    )
    for execution in listed:
        generic = to_jsonable(execution)
        expected = {k: generic[k] for k in fields if k in generic}
        expected["checkpoint_count"] = execution.checkpoint_count
        expected["artifact_count"] = execution.artifact_count
        assert _shapes.summary(execution) == expected
        assert list(_shapes.summary(execution)) == list(expected)  # same key order
    full = KitaruClient().executions.get(waiting)
    assert _shapes.full(full)["checkpoint_count"] == len(full.checkpoints) == 1


def test_list_text_table(cli, waiting: str) -> None:
    result = cli("executions", "list")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "Flow", "Status", "Stack"]
    assert lines[1].split() == [waiting, "approve_flow", "waiting", "default"]


def test_list_empty(cli, memory_runtime) -> None:
    assert cli("executions", "list").stdout.strip() == "No executions found."
    assert cli("executions", "list", "-o", "json").json() == {
        "command": "executions.list",
        "items": [],
        "count": 0,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--status", "paused"],
            "Unknown status 'paused'. Valid statuses: running, waiting, "
            "completed, failed, cancelled.",
        ),
        (["--limit", "0"], "`--limit` must be at least 1."),
        (["--flow", " "], "`--flow` must be a non-empty flow name."),
    ],
)
def test_list_validation(cli, memory_runtime, args: list[str], message: str) -> None:
    result = cli("executions", "list", *args, "-o", "json")
    assert result.exit_code == 1
    assert result.error()["message"] == message


def test_id_prefixes(cli, memory_runtime, waiting: str) -> None:
    short = cli("executions", "get", waiting[:4], "-o", "json")
    assert short.exit_code == 1
    assert "at least 6 characters" in short.error()["message"]
    twin_a = waiting_with_waits(memory_runtime, [], exec_id="abcdef01-0000-0000-0000-000000000000")
    waiting_with_waits(memory_runtime, [], exec_id="abcdef02-0000-0000-0000-000000000000")
    ambiguous = cli("executions", "get", "abcdef", "-o", "json")
    assert ambiguous.exit_code == 1
    assert "ambiguous" in ambiguous.error()["message"]
    assert cli("executions", "get", "abcdef01", "-o", "json").json()["item"]["exec_id"] == twin_a


def test_ids_and_prefixes_are_case_insensitive(cli, memory_runtime, waiting: str) -> None:
    # SPEC decision 19: an id copied in upper case names the same execution.
    for given in (waiting.upper(), waiting[:8].upper(), waiting[:8].title()):
        got = cli("executions", "get", given, "-o", "json")
        assert got.exit_code == 0, (given, got.stderr)
        assert got.json()["item"]["exec_id"] == waiting
    result = cli("executions", "input", waiting[:8].upper(), "--value", "1")
    assert result.exit_code == 0, result.stderr
    settle(waiting, "completed")
    assert cli("executions", "logs", waiting[:8].upper()).exit_code == 0
    twin = waiting_with_waits(memory_runtime, [], exec_id="abcdef01-0000-0000-0000-000000000000")
    waiting_with_waits(memory_runtime, [], exec_id="abcdef02-0000-0000-0000-000000000000")
    assert "ambiguous" in cli("executions", "get", "ABCDEF", "-o", "json").error()["message"]
    assert cli("executions", "get", "ABCDEF01", "-o", "json").json()["item"]["exec_id"] == twin


# -- input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "`--value` is required (or use `--abort` / `--interactive`)."),
        (["--value", "{oops"], "Invalid JSON for `--value`:"),
        (["--value", "1", "--abort"], "`--abort` cannot be combined with `--value`."),
        (["--value", '"five"'], "does not match its schema"),
        (
            ["--value", "1", "--wait", "nope"],
            "has no pending wait 'nope'. Available waits: approval.",
        ),
        (["-i"], "`--interactive` cannot be combined with `--output json`."),
        (["-i", "--value", "1"], "`--interactive` cannot be combined with `--value`"),
    ],
)
def test_input_validation(cli, memory_runtime, waiting: str, args: list[str], message: str) -> None:
    before = snapshot(cli, memory_runtime)
    result = cli("executions", "input", waiting, *args, "-o", "json")
    assert result.exit_code == 1
    assert message in result.error()["message"]
    assert snapshot(cli, memory_runtime) == before
    assert settle(waiting, "waiting") == "waiting"


def test_input_needs_an_id(cli, memory_runtime) -> None:
    result = cli("executions", "input", "--value", "1")
    assert result.exit_code == 1
    assert "Give an execution id (or use `--interactive`)." in result.stderr


def test_input_validation_error_type(cli, waiting: str) -> None:
    result = cli("executions", "input", waiting, "--value", "many", "-o", "json")
    assert result.error()["type"] == "KitaruWaitValidationError"
    assert 'expected integer, got string "many"' in result.error()["message"]


@pytest.mark.parametrize("value", ['"5"', "5", " 5 "])
def test_input_is_converted_to_the_schema(cli, waiting: str, value: str) -> None:
    # SPEC decision 11: converted as pydantic's lax mode does; the flow gets the int 5.
    result = cli("executions", "input", waiting, "--value", value)
    assert result.exit_code == 0, result.stderr
    settle(waiting, "completed")
    assert "  Result: 9" in cli("executions", "get", waiting).stdout.splitlines()


def test_input_resolves_and_continues(cli, waiting: str) -> None:
    result = cli("executions", "input", waiting[:10], "--value", "5")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (f"Resolved wait 'approval' of execution {waiting}.")
    settle(waiting, "completed")
    shown = cli("executions", "get", waiting).stdout.splitlines()
    assert "  Result: 9" in shown  # double(2) + 5
    again = cli("executions", "input", waiting, "--value", "5", "-o", "json")
    assert again.exit_code == 1
    assert again.error()["message"] == (f"Execution '{waiting}' has no pending waits to resolve.")


def test_input_confirms_the_value_as_stored(cli, waiting: str) -> None:
    text = cli("executions", "input", waiting, "--value", '"5"')
    assert text.exit_code == 0, text.stderr
    assert text.stdout.splitlines()[1] == "Value: 5"  # converted to the int schema
    settle(waiting, "completed")
    shown = cli("executions", "get", waiting).stdout.splitlines()
    assert "  Resolved wait: approval = 5" in shown
    item = cli("executions", "get", waiting, "-o", "json").json()["item"]
    assert item["result"] == 9
    [wait] = item["waits"]
    assert (wait["name"], wait["status"], wait["value"]) == ("approval", "resolved", 5)


def test_input_json_confirms_the_stored_value(cli, waiting: str) -> None:
    doc = cli("executions", "input", waiting, "--value", "yes", "-o", "json")
    assert doc.exit_code == 1  # an int wait: "yes" is no number
    doc = cli("executions", "input", waiting, "--value", '"7"', "-o", "json").json()
    assert doc["wait"] == "approval" and doc["value"] == 7
    settle(waiting, "completed")


def test_string_wait_given_a_number_says_how_to_quote_it(cli, memory_runtime) -> None:
    started = cli("run", "cli_flows:text_flow", "-o", "json").json()["item"]["exec_id"]
    settle(started, "waiting")
    for value, shown in (("5", "number 5"), ("true", "boolean true"), ("null", "null")):
        result = cli("executions", "input", started, "--value", value, "-o", "json")
        message = result.error()["message"]
        assert f"expected string, got {shown}." in message
        assert f"""quote it: --value '"{value}"'""" in message
    result = cli("executions", "input", started, "--value", '"5"')
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == 'Value: "5"'
    settle(started, "completed")
    item = cli("executions", "get", started, "-o", "json").json()["item"]
    assert item["result"] == "5"


def test_get_shows_cache_hits(cli, memory_runtime) -> None:
    args = ("run", "cli_flows:simple_flow", "--args", '{"x": 4}', "--wait", "-o", "json")
    first = cli(*args).json()["item"]["exec_id"]
    second = cli(*args).json()["item"]["exec_id"]
    lines = cli("executions", "get", second).stdout.splitlines()
    assert "  Checkpoints: double (completed, cached)" in lines
    assert any(
        line.startswith(f"  Cached: double from {first}/double (outputs reused without running")
        for line in lines
    )
    logs = cli("executions", "logs", second)
    assert "'double' was a cache hit: it did not run here" in logs.stderr
    assert "  Cached:" not in "\n".join(cli("executions", "get", first).stdout.splitlines())


def test_get_json_result_of_a_value_that_is_not_json_data(cli, memory_runtime) -> None:
    item = cli("run", "cli_flows:complex_flow", "--wait", "-o", "json").json()["item"]
    assert item["result"] == "(1+2j)"  # as `run --wait -o json` shows it
    assert cli("executions", "get", item["exec_id"], "-o", "json").json()["item"]["result"] == (
        "(1+2j)"
    )
    text = cli("executions", "get", item["exec_id"]).stdout.splitlines()
    assert "  Result: (1+2j)" in text


def test_input_json_item_and_explicit_wait(cli, waiting: str) -> None:
    doc = cli(
        "executions", "input", waiting, "--wait", "approval", "--value", "1", "-o", "json"
    ).json()
    assert doc["command"] == "executions.input"
    assert doc["item"]["exec_id"] == waiting
    settle(waiting, "completed")


def test_input_by_wait_id_names_the_wait(cli, waiting: str) -> None:
    from kitaru import KitaruClient

    (pending,) = KitaruClient().executions.pending_waits(waiting)
    result = cli("executions", "input", waiting, "--wait", pending.wait_id, "--value", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Resolved wait 'approval' of execution {waiting}."
    settle(waiting, "completed")


def test_input_abort_cancels(cli, waiting: str) -> None:
    result = cli("executions", "input", waiting, "--abort")
    assert result.exit_code == 0, result.stderr
    assert "Aborted wait 'approval'" in result.stdout
    assert settle(waiting, "cancelled") == "cancelled"


def test_input_several_pending_waits(cli, memory_runtime) -> None:
    exec_id = waiting_with_waits(memory_runtime, ["first", "second"])
    result = cli("executions", "input", exec_id, "--value", "1", "-o", "json")
    assert result.exit_code == 1
    message = result.error()["message"]
    assert "2 pending waits (first, second)" in message and "--interactive" in message


def test_input_interactive(
    cli, memory_runtime, waiting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitaru_cli import _input

    monkeypatch.setattr(_input, "is_interactive_terminal", lambda: True)
    other = waiting_with_waits(memory_runtime, ["review"])
    # first execution listed is the newest (`other`): skip it; then answer `approval`, after
    # one value that fails validation.
    result = cli("executions", "input", "-i", input='s\nc\n"x"\n7\n')
    assert result.exit_code == 0, result.stderr
    assert "How much?" in result.stdout
    assert "does not match its schema" in result.stderr
    assert "1 resolved, 0 aborted, 1 skipped, 0 failed." in result.stdout
    settle(waiting, "completed")
    assert settle(other, "waiting") == "waiting"


def test_input_interactive_needs_a_terminal(cli, waiting: str) -> None:
    result = cli("executions", "input", waiting, "-i")
    assert result.exit_code == 1
    assert "needs a terminal" in result.stderr


# -- retry / resume / cancel / replay -------------------------------------------------------


def test_retry_rules(cli, memory_runtime, waiting: str) -> None:
    before = snapshot(cli, memory_runtime)
    result = cli("executions", "retry", waiting, "-o", "json")
    assert result.exit_code == 1
    assert result.error()["message"] == (
        f"Only failed executions can be retried. Execution '{waiting}' is currently 'waiting'."
    )
    assert snapshot(cli, memory_runtime) == before

    failed = cli("run", "cli_flows:failing_flow", "--args", '{"x": 1}', "-o", "json")
    failed_id = failed.json()["item"]["exec_id"]
    settle(failed_id, "failed")
    retried = cli("executions", "retry", failed_id)
    assert retried.exit_code == 0
    assert retried.stdout.splitlines()[0] == f"Retried execution: {failed_id}"
    assert retried.stdout.splitlines()[1].startswith("Status: ")
    settle(failed_id, "failed")


def test_resume_with_pending_wait_is_refused(cli, waiting: str) -> None:
    result = cli("executions", "resume", waiting)
    assert result.exit_code == 1
    assert "Resolve pending wait input before resuming" in result.stderr


def test_resume_of_a_running_or_completed_execution_says_nothing_was_resumed(
    cli, memory_runtime
) -> None:
    import time

    import cli_flows
    from kitaru import KitaruClient

    cli_flows.GATE.clear()
    started = cli("run", "cli_flows:gated_flow", "--args", '{"x": 1}', "-o", "json")
    exec_id = started.json()["item"]["exec_id"]
    try:
        deadline = time.monotonic() + 10
        while not [
            c
            for c in KitaruClient().executions.get(exec_id).checkpoints
            if c.status.value == "running"
        ]:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        text = cli("executions", "resume", exec_id)
        # idempotent (SPEC decision 12): exit 0, but it says that it did nothing
        assert text.exit_code == 0, text.stderr
        assert text.stdout.splitlines() == [
            f"Execution {exec_id} is already running: nothing was resumed.",
            "Status: running",
        ]
        doc = cli("executions", "resume", exec_id, "-o", "json").json()
        assert doc["resume"] == "already_running"
    finally:
        cli_flows.GATE.set()
    settle(exec_id, "completed")
    done = cli("executions", "resume", exec_id)
    assert done.exit_code == 0
    assert done.stdout.splitlines()[0] == (
        f"Execution {exec_id} has already completed: nothing was resumed."
    )


def test_cancel(cli, waiting: str) -> None:
    doc = cli("executions", "cancel", waiting, "-o", "json").json()
    assert doc["command"] == "executions.cancel"
    assert doc["item"]["status"] == "cancelled" and doc["cancel"] == "cancelled"
    again = cli("executions", "cancel", waiting)
    assert again.exit_code == 1 and "already finished" in again.stderr


def test_cancel_of_a_running_execution_is_a_request(cli, memory_runtime) -> None:
    import cli_flows

    cli_flows.GATE.clear()
    started = cli("run", "cli_flows:gated_flow", "--args", '{"x": 1}', "-o", "json")
    exec_id = started.json()["item"]["exec_id"]
    try:
        settle(exec_id, "running")
        text = cli("executions", "cancel", exec_id[:8])
        assert text.exit_code == 0, text.stderr
        assert text.stdout.splitlines() == [
            f"Cancel requested for execution: {exec_id}",
            "It stops at its next checkpoint boundary, agent step (model request or tool "
            "call) or wait.",
            "Status: running",
        ]
        doc = cli("executions", "cancel", exec_id, "-o", "json").json()
        assert doc["cancel"] == "requested" and doc["item"]["status"] == "running"
        assert doc["item"]["cancel_requested"] is True
        shown = cli("executions", "get", exec_id).stdout
        assert "Cancel: requested: it stops at its next checkpoint boundary" in shown
    finally:
        cli_flows.GATE.set()
    assert settle(exec_id, "cancelled") == "cancelled"
    assert "Cancel:" not in cli("executions", "get", exec_id).stdout


def test_replay(cli, memory_runtime, waiting: str) -> None:
    cli("executions", "input", waiting, "--value", "1")
    settle(waiting, "completed")
    result = cli(
        "executions", "replay", waiting, "--from", "double", "--args", '{"x": 10}', "-o", "json"
    )
    assert result.exit_code == 0, result.stderr
    item = result.json()["item"]
    assert item["original_exec_id"] == waiting and item["exec_id"] != waiting
    settle(item["exec_id"], "waiting")
    text = cli("executions", "replay", waiting, "--from", "double")
    assert text.stdout.splitlines()[0] == f"Replayed execution: {waiting}"
    assert text.stdout.splitlines()[1].startswith("New execution: ")
    edited = cli(
        "executions", "replay", waiting, "--from", "double",
        "--overrides", '{"checkpoint.double": 99}', "-o", "json",
    ).json()["item"]["exec_id"]  # fmt: skip
    settle(edited, "waiting")
    shown = cli("executions", "get", edited).stdout
    assert "double (completed, overridden)" in shown  # not like a call that ran


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "`--from` is required"),
        (["--from", "nope"], "Unknown checkpoint selector 'nope'. Available checkpoints: double."),
        (["--from", "double", "--args", "[1]"], "`--args` must be a JSON object"),
        (["--from", "double", "--overrides", "3"], "`--overrides` must be a JSON object"),
        (["--from", "double", "--overrides", "{"], "Invalid JSON for `--overrides`"),
        (["--from", "double", "--overrides", '{"wait.approval": 1}'], "Wait overrides"),
        (["--from", "double", "--args", '{"nope": 1}'], "has no parameter 'nope'"),
        (
            ["--from", "double", "--args", '{"stack": "x", "from_": 1}'],
            "cannot set 'from_', 'stack'",
        ),
    ],
)
def test_replay_validation(
    cli, memory_runtime, waiting: str, args: list[str], message: str
) -> None:
    before = snapshot(cli, memory_runtime)
    result = cli("executions", "replay", waiting, *args, "-o", "json")
    assert result.exit_code == 1
    assert message in result.error()["message"]
    assert snapshot(cli, memory_runtime) == before


def test_commands_are_named_in_envelopes(cli, memory_runtime) -> None:
    missing = "12345678-aaaa-bbbb-cccc-000000000000"
    for command in ("get", "retry", "resume", "cancel", "logs"):
        result = cli("executions", command, missing, "-o", "json")
        assert result.exit_code == 1
        assert json.loads(result.stderr)["command"] == f"executions.{command}"


def test_run_file_target_keeps_stdout_for_json(cli, memory_runtime, tmp_path) -> None:
    path = tmp_path / "noisy_flows.py"
    path.write_text(
        "import kitaru\n"
        "print('imported noisily')\n\n"
        "@kitaru.flow\n"
        "def quiet(x: int) -> int:\n"
        "    return x\n"
    )
    result = cli("run", f"{path}:quiet", "--args", '{"x": 1}', "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["item"]["target"] == f"{path}:quiet"
    assert "imported noisily" in result.stderr
    settle(result.json()["item"]["exec_id"], "completed")


def test_executions_without_a_subcommand_prints_help(cli) -> None:
    result = cli("executions")
    assert result.exit_code == 0
    assert "replay" in result.stdout


def test_run_refuses_a_script_that_starts_a_flow_at_import(
    cli, memory_runtime, tmp_path: Path
) -> None:
    """The README snippet pasted into a file starts its flow at import: `kitaru run` says so
    (instead of blocking in that flow's wait) and starts nothing."""
    script = tmp_path / "agent_at_import.py"
    script.write_text(
        "from kitaru import flow\n\n"
        "@flow\n"
        "def report(topic: str) -> str:\n"
        "    return topic\n\n"
        "handle = report.run('durable agents')  # no main guard\n"
        "print(handle.wait())\n"
    )
    result = cli("run", f"{script}:report", "--args", '{"topic": "x"}', "-o", "json")
    assert result.exit_code == 1
    error = result.error()
    assert "Flow 'report' was started while Kitaru imported" in error["message"]
    assert 'if __name__ == "__main__":' in error["message"]
    assert cli("executions", "list", "-o", "json").json()["items"] == []


def test_run_args_are_checked_and_converted_against_the_flow_signature(cli, memory_runtime) -> None:
    """JSON inputs get the flow's parameter types as pydantic's lax mode converts them; a
    value that does not fit is refused before anything starts."""
    converted = cli("run", "cli_flows:simple_flow", "--args", '{"x": "4"}', "--wait", "-o", "json")
    assert converted.exit_code == 0, converted.stderr
    assert converted.json()["item"]["result"] == 8  # not "44"
    refused = cli("run", "cli_flows:simple_flow", "--args", '{"x": "abc"}', "-o", "json")
    assert refused.exit_code == 1
    message = refused.error()["message"]
    assert "Invalid inputs for flow 'simple_flow': x: Input should be a valid integer" in message
    assert '(got "abc")' in message
    assert len(cli("executions", "list", "-o", "json").json()["items"]) == 1


def test_get_text_shows_what_a_pending_wait_is_about(cli, memory_runtime) -> None:
    """Two hitl waits may share a question ("Answer?"): the text view shows the metadata
    (the tool call and its arguments), not only -o json."""
    exec_id = cli("run", "cli_flows:tool_asks_flow", "-o", "json").json()["item"]["exec_id"]
    settle(exec_id, "waiting")
    lines = cli("executions", "get", exec_id).stdout.splitlines()
    assert '  Wait metadata: {"tool_name": "approve_refund", "tool_args": {"amount": 40}}' in lines


def test_retry_replay_and_resume_follow_the_execution_with_wait(cli, memory_runtime) -> None:
    import cli_flows

    cli_flows.FAIL_ONCE.clear()
    failed = cli("run", "cli_flows:fail_once_flow", "--args", '{"x": 3}', "-o", "json")
    failed_id = failed.json()["item"]["exec_id"]
    settle(failed_id, "failed")
    retried = cli("executions", "retry", failed_id, "--wait")
    assert retried.exit_code == 0, retried.stderr
    assert retried.stdout.splitlines() == [
        f"Retried execution: {failed_id}",
        f"Execution {failed_id} completed.",
        "Result: 30",
    ]
    replayed = cli("executions", "replay", failed_id, "--from", "fail_once", "--wait", "-o", "json")
    assert replayed.exit_code == 0, replayed.stderr
    item = replayed.json()["item"]
    assert item["result"] == 30 and item["status"] == "completed"
    assert item["exec_id"] != failed_id
    # Following an execution that then fails exits 1 with its error.
    cli_flows.FAIL_ONCE.clear()
    again = cli("executions", "replay", failed_id, "--from", "fail_once", "--wait", "-o", "json")
    assert again.exit_code == 1
    assert "fails the first time" in again.error()["message"]
