"""End to end: the real ``kitaru`` console script on the embedded SQLite journal.

Each test has its own ``KITARU_CONFIG_PATH``, so the journal (``kitaru.db``) and artifacts
live in the test's tmp dir. Flows run in detached worker processes started by the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

FLOW = textwrap.dedent(
    """
    import kitaru


    @kitaru.checkpoint
    def double(x: int) -> int:
        print(f"doubling {x}")
        return x * 2


    @kitaru.flow
    def my_flow(x: int) -> int:
        y = double(x)
        z = kitaru.wait(schema=int, timeout=1)
        return y + z
    """
)


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_flows.py"
    path.write_text(FLOW)
    return path


def poll(
    kitaru_exe: Callable[..., Any], exec_id: str, *statuses: str, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = kitaru_exe("executions", "get", exec_id, "-o", "json")
        assert result.exit_code == 0, result.stderr
        item = result.json()["item"]
        if item["status"] in statuses:
            return item  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"{exec_id} is {item['status']}, wanted {statuses}")
        time.sleep(0.1)


def suspended(exec_id: str, timeout: float = 30) -> None:
    """Wait until the runner has stopped listening at the wait (journal state ``waiting``)."""
    from kitaru.backend import ExecutionState
    from kitaru.runtime import current_runtime

    backend = current_runtime().backend
    deadline = time.monotonic() + timeout
    while backend.get_execution(exec_id).state is not ExecutionState.WAITING:
        assert time.monotonic() < deadline, backend.get_execution(exec_id).state
        time.sleep(0.05)


def journal(kitaru_exe: Callable[..., Any]) -> list[dict[str, Any]]:
    result = kitaru_exe("executions", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()["items"]  # type: ignore[no-any-return]


def expect_error(result: Any, message: str, error_type: str | None = None) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    error = result.error()
    assert message in error["message"], error
    if error_type is not None:
        assert error["type"] == error_type


def add_twins(prefix: str) -> None:
    """Two executions whose ids share ``prefix``, written straight into the journal."""
    from kitaru.backend import ExecutionRecord, ExecutionState, SourceRef
    from kitaru.runtime import current_runtime

    runtime = current_runtime()
    for n in (1, 2):
        runtime.backend.create_execution(
            ExecutionRecord(
                exec_id=f"{prefix}{n}" + str(uuid.uuid4())[len(prefix) + 1 :],
                flow_name="twin",
                source=SourceRef(module="nowhere", qualname="twin"),
                state=ExecutionState.CANCELLED,
                created_at=datetime.now(UTC),
            )
        )


def test_run_wait_input_logs_replay(kitaru_exe, flow_file: Path) -> None:
    submitted = kitaru_exe("run", f"{flow_file}:my_flow", "--args", '{"x": 2}', "-o", "json")
    assert submitted.exit_code == 0, submitted.stderr
    item = submitted.json()["item"]
    exec_id = item["exec_id"]
    assert item["target"] == f"{flow_file}:my_flow"
    assert item["status"] in ("running", "waiting")
    assert item["execution"]["flow_name"] == "my_flow"

    waiting = poll(kitaru_exe, exec_id, "waiting")
    assert waiting["pending_wait"]["name"] == "wait"
    assert [c["name"] for c in waiting["checkpoints"]] == ["double"]

    add_twins("fedcba0")
    before = journal(kitaru_exe)
    assert len(before) == 3
    expect_error(
        kitaru_exe("executions", "input", exec_id, "--value", "{bad", "-o", "json"),
        "Invalid JSON for `--value`",
        "KitaruUsageError",
    )
    expect_error(
        kitaru_exe("executions", "input", exec_id, "--value", '"five"', "-o", "json"),
        "does not match its schema",
        "KitaruWaitValidationError",
    )
    expect_error(
        kitaru_exe("executions", "get", str(uuid.uuid4()), "-o", "json"),
        "was not found",
        "ExecutionNotFoundError",
    )
    expect_error(
        kitaru_exe("executions", "get", exec_id[:5], "-o", "json"),
        "too short to be a prefix: an execution id prefix needs at least 6 characters (this "
        "one has 5)",
        "KitaruUsageError",
    )
    expect_error(
        kitaru_exe("executions", "get", "fedcba0", "-o", "json"), "is ambiguous", "KitaruStateError"
    )
    expect_error(
        kitaru_exe("executions", "retry", exec_id, "-o", "json"),
        "Only failed executions can be retried.",
        "KitaruStateError",
    )
    expect_error(
        kitaru_exe(
            "executions", "replay", exec_id, "--from", "double", "--args", "[2]", "-o", "json"
        ),
        "`--args` must be a JSON object",
        "KitaruUsageError",
    )
    text = kitaru_exe("executions", "input", exec_id, "--value", "oops")  # a bare word: a string
    assert text.exit_code == 1 and text.stdout == ""
    assert text.stderr.startswith(
        "Error: Input for wait 'wait' does not match its schema: $: expected integer, got "
        'string "oops"'
    )
    assert journal(kitaru_exe) == before

    # The JSON string "5" is converted to the int 5 (SPEC decision 11).
    answered = kitaru_exe("executions", "input", exec_id[:8], "--value", '"5"', "-o", "json")
    assert answered.exit_code == 0, answered.stderr
    assert answered.json()["command"] == "executions.input"
    done = poll(kitaru_exe, exec_id, "completed")
    assert [(c["name"], c["status"]) for c in done["checkpoints"]] == [("double", "completed")]
    assert done["checkpoint_count"] == 1

    from kitaru import FlowHandle

    assert FlowHandle(exec_id).get() == 9  # 2 * 2 + 5

    logs = kitaru_exe("executions", "logs", exec_id, "-o", "json")
    assert logs.exit_code == 0
    messages = [(e["message"], e.get("checkpoint_name")) for e in logs.json()["items"]]
    assert ("doubling 2", "double") in messages

    before = journal(kitaru_exe)
    expect_error(
        kitaru_exe("executions", "retry", exec_id, "-o", "json"),
        f"Only failed executions can be retried. Execution '{exec_id}' is currently 'completed'.",
    )
    expect_error(
        kitaru_exe("executions", "input", exec_id, "--value", "1", "-o", "json"),
        f"Execution '{exec_id}' has no pending waits to resolve.",
        "KitaruStateError",
    )
    expect_error(
        kitaru_exe("executions", "replay", exec_id, "--from", "nope", "-o", "json"),
        "Unknown checkpoint selector 'nope'",
        "KitaruStateError",
    )
    assert journal(kitaru_exe) == before

    replayed = kitaru_exe(
        "executions", "replay", exec_id, "--from", "double", "--args", '{"x": 10}', "-o", "json"
    )
    assert replayed.exit_code == 0, replayed.stderr
    new = replayed.json()["item"]
    assert new["original_exec_id"] == exec_id and new["exec_id"] != exec_id
    poll(kitaru_exe, new["exec_id"], "waiting")
    assert kitaru_exe("executions", "input", new["exec_id"], "--value", "1").exit_code == 0
    poll(kitaru_exe, new["exec_id"], "completed")
    assert FlowHandle(new["exec_id"]).get() == 21  # 10 * 2 + 1
    assert len(journal(kitaru_exe)) == 4


def test_run_with_wait_and_follow(kitaru_exe, flow_file: Path, tmp_path: Path) -> None:
    kitaru_script = Path(sys.executable).with_name("kitaru")  # the console script
    env = kitaru_exe.env

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(kitaru_script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )

    runner = start("run", f"{flow_file}:my_flow", "--args", '{"x": 3}', "--wait", "-o", "json")
    try:
        deadline = time.monotonic() + 30
        while not (items := journal(kitaru_exe)):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        exec_id = items[0]["exec_id"]
        follower = start(
            "executions", "logs", exec_id, "--follow", "--interval", "0.2", "-o", "json"
        )
        poll(kitaru_exe, exec_id, "waiting")
        time.sleep(0.5)  # let the follower announce the wait
        assert kitaru_exe("executions", "input", exec_id, "--value", "4").exit_code == 0
        out, err = runner.communicate(timeout=60)
        follow_out, follow_err = follower.communicate(timeout=60)
    finally:
        for process in (runner, locals().get("follower")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert runner.returncode == 0, err
    item = json.loads(out)["item"]
    assert item["status"] == "completed" and item["result"] == 10  # 3 * 2 + 4
    assert follower.returncode == 0, follow_err
    events = [json.loads(line) for line in follow_out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("waiting") == 1 and kinds[-1] == "terminal"
    assert {k: events[0][k] for k in ("command", "event")} == {
        "command": "executions.logs",
        "event": "log",
    }
    assert events[0]["item"]["message"] == "doubling 3"
    assert events[-1]["item"] == {"exec_id": exec_id, "status": "completed"}


def test_commands_without_a_journal(kitaru_exe, isolated_config: Path) -> None:
    assert kitaru_exe("--version").stdout.startswith("kitaru ")
    assert "executions" in kitaru_exe("--help").stdout
    assert kitaru_exe().exit_code == 0
    plugins = kitaru_exe("plugins", "-o", "json")
    assert plugins.exit_code == 0
    names = {p["name"]: p for p in plugins.json()["items"]}
    assert names["sql"]["distribution"] == "kitaru-backend-sql"
    assert "kitaru_register_backends" in names["sql"]["hooks"]
    assert not (isolated_config / "kitaru.db").exists()


def test_run_target_errors(kitaru_exe, flow_file: Path) -> None:
    expect_error(
        kitaru_exe("run", str(flow_file), "-o", "json"),
        "Flow target must use `<module_or_file>:<flow_name>` format",
    )
    expect_error(
        kitaru_exe("run", f"{flow_file}:double", "-o", "json"), "'double' in", "KitaruUsageError"
    )
    expect_error(
        kitaru_exe("run", "my_flows:my_flow", "--args", "{", "-o", "json"),
        "Invalid JSON for `--args`",
    )
    module_target = kitaru_exe("run", "my_flows:my_flow", "--args", '{"x": 1}', "-o", "json")
    assert module_target.exit_code == 0, module_target.stderr  # a module on the cwd
    exec_id = module_target.json()["item"]["exec_id"]
    suspended(exec_id)
    cancelled = kitaru_exe("executions", "cancel", exec_id)
    assert cancelled.stdout.splitlines() == [f"Cancelled execution: {exec_id}", "Status: cancelled"]


def test_cancel_while_the_runner_listens(kitaru_exe, tmp_path: Path) -> None:
    (tmp_path / "slow_wait.py").write_text(FLOW.replace("timeout=1", "timeout=3"))
    submitted = kitaru_exe("run", "slow_wait.py:my_flow", "--args", '{"x": 1}', "-o", "json")
    exec_id = submitted.json()["item"]["exec_id"]
    from kitaru import KitaruClient

    client = KitaruClient()
    deadline = time.monotonic() + 20
    while client.executions.get(exec_id).status.value != "waiting":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert kitaru_exe("executions", "cancel", exec_id).exit_code == 0
    deadline = time.monotonic() + 6
    while client.executions.get(exec_id).status.value != "cancelled":
        assert time.monotonic() < deadline, client.executions.get(exec_id).status
        time.sleep(0.1)


def test_console_script_exit(kitaru_exe) -> None:
    """The console script ends the process itself after a built-in command (skipping the
    interpreter's teardown): large output still arrives whole, exit codes are kept, and a
    reader that stops early gets no traceback."""
    add_twins("abcdef0")
    for n in range(300):
        add_twins(f"{n:06x}")
    listed = kitaru_exe("executions", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert listed.json()["count"] == 602
    assert listed.stdout.endswith("}\n") and listed.stderr == ""
    failed = kitaru_exe("executions", "get", "abcdef0", "-o", "json")
    assert failed.exit_code == 1 and failed.stdout == ""
    assert "is ambiguous" in failed.error()["message"]
    env = kitaru_exe.env  # type: ignore[attr-defined]
    kitaru = Path(sys.executable).with_name("kitaru")
    assert len(listed.stdout) > 64 * 1024  # more than a pipe holds: the writer sees it close
    for command, first in (
        ("-o json | head -c 20", '{"command":"executio'),
        ("| head -n 1", "ID "),
        ("-ojson | head -c 20", '{"command":"executio'),  # JSON through Typer, no fast path
    ):
        # `pipefail`: the pipeline fails if kitaru does. A reader that stops early is no
        # failure: kitaru ends quietly with exit code 0 (Typer alone would exit 1).
        head = subprocess.run(
            ["bash", "-c", f"set -o pipefail; '{kitaru}' executions list {command}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert head.stdout.startswith(first)
        assert head.stderr == "", head.stderr
        assert head.returncode == 0, command
