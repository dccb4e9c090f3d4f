"""`kitaru executions logs`, once and with --follow, on the in-memory journal."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from _helpers import settle
from kitaru import KitaruClient
from kitaru.backend import LogRecord
from kitaru.runtime import use_runtime


@pytest.fixture
def completed(cli, memory_runtime) -> str:
    result = cli("run", "cli_flows:simple_flow", "--args", '{"x": 1}', "--wait", "-o", "json")
    assert result.exit_code == 0, result.stderr
    exec_id = result.json()["item"]["exec_id"]
    start = datetime.now(UTC)
    memory_runtime.backend.append_logs(
        [
            LogRecord(
                exec_id=exec_id,
                message="starting",
                timestamp=start,
                source="runner",
                module="my_module",
            ),
            LogRecord(
                exec_id=exec_id,
                message="doubling 1",
                timestamp=start + timedelta(seconds=1),
                source="step",
                invocation_id="double",
            ),
            LogRecord(
                exec_id=exec_id,
                message="careful",
                timestamp=start + timedelta(seconds=2),
                level="WARNING",
                source="step",
                invocation_id="double",
            ),
            LogRecord(
                exec_id=exec_id,
                message="done",
                timestamp=start + timedelta(seconds=3),
                source="runner",
            ),
        ]
    )
    return exec_id


def test_default_text_is_step_messages(cli, completed: str) -> None:
    result = cli("executions", "logs", completed)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["doubling 1", "careful"]


def test_verbosity(cli, completed: str) -> None:
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    one = cli("executions", "logs", completed, "-v").stdout.splitlines()
    assert re.fullmatch(rf"{stamp} INFO doubling 1", one[0])
    assert re.fullmatch(rf"{stamp} WARNING careful", one[1])
    two = cli("executions", "logs", completed, "-vv", "--source", "all").stdout.splitlines()
    # where each line came from: the flow (with the module of a `logging` record) or the
    # checkpoint invocation; a module name is never shown as if it were a checkpoint
    assert re.fullmatch(rf"{stamp} INFO \[flow, module my_module\] starting", two[0])
    assert re.fullmatch(rf"{stamp} INFO \[double\] doubling 1", two[1])


def test_grouped(cli, completed: str) -> None:
    lines = cli("executions", "logs", completed, "--source", "all", "--grouped").stdout
    sections = [line for line in lines.splitlines() if line.startswith("── ")]
    assert sections[0].startswith("── flow ───")
    assert sections[1].startswith("── checkpoint: double ───")
    assert lines.splitlines()[1:3] == ["starting", "done"]


def test_filters_and_limit(cli, completed: str) -> None:
    runner = cli("executions", "logs", completed, "--source", "runner").stdout.splitlines()
    assert runner == ["starting", "done"]
    only = cli("executions", "logs", completed, "--checkpoint", "double", "--limit", "1")
    assert only.stdout.splitlines() == ["doubling 1"]


def test_json_items(cli, completed: str) -> None:
    doc = cli("executions", "logs", completed, "-o", "json").json()
    assert doc["command"] == "executions.logs"
    assert doc["count"] == 2
    first = doc["items"][0]
    assert first["message"] == "doubling 1"
    assert first["checkpoint_name"] == "double"
    assert first["invocation_id"] == "double"
    assert "lineno" not in first  # None fields omitted


def test_empty(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:simple_flow", "--args", '{"x": 1}', "--wait", "-o", "json")
    exec_id = result.json()["item"]["exec_id"]
    text = cli("executions", "logs", exec_id)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0] == f"No log entries found for execution {exec_id}."
    assert lines[1].startswith("Hint: ")
    assert cli("executions", "logs", exec_id, "-o", "json").json()["items"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grouped", "-o", "json"], "`--grouped` cannot be combined with `--output json`."),
        (
            ["--checkpoint", "double", "--source", "runner"],
            "`--checkpoint` cannot be combined with `--source runner`",
        ),
        (["--interval", "0"], "`--interval` must be greater than 0."),
        (["--interval", "-1", "--follow"], "`--interval` must be greater than 0."),
        (["--source", "nope"], "`--source` must be one of: step, runner, all."),
        (["--limit", "0"], "`--limit` must be at least 1."),
        (["--checkpoint", "nope"], "has no checkpoint 'nope'"),
    ],
)
def test_validation(cli, completed: str, args: list[str], message: str) -> None:
    result = cli("executions", "logs", completed, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr


def test_follow_completed(cli, completed: str) -> None:
    result = cli("executions", "logs", completed, "--follow", "--interval", "0.05")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "doubling 1",
        "careful",
        "[Execution completed successfully]",
    ]


def test_follow_failed_json(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:failing_flow", "--args", '{"x": 3}', "-o", "json")
    exec_id = result.json()["item"]["exec_id"]
    settle(exec_id, "failed")
    follow = cli("executions", "logs", exec_id, "-f", "--interval", "0.05", "-o", "json")
    assert follow.exit_code == 1
    events = [json.loads(line) for line in follow.stdout.splitlines()]
    assert all(e["command"] == "executions.logs" for e in events)
    terminal = events[-1]
    assert terminal["event"] == "terminal"
    assert terminal["item"]["status"] == "failed"
    assert terminal["item"]["recovery_command"] == f"kitaru executions retry {exec_id}"
    text = cli("executions", "logs", exec_id, "-f", "--interval", "0.05")
    assert text.exit_code == 1
    assert "[Execution failed: " in text.stdout
    assert f"kitaru executions retry {exec_id}" in text.stdout


def test_follow_cancelled(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:approve_flow", "--args", '{"x": 3}', "-o", "json")
    exec_id = result.json()["item"]["exec_id"]
    settle(exec_id, "waiting")
    cli("executions", "cancel", exec_id)
    follow = cli("executions", "logs", exec_id, "-f", "--interval", "0.05")
    assert follow.exit_code == 1
    assert follow.stdout.splitlines()[-1] == "[Execution cancelled]"


def test_follow_through_a_wait(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:approve_flow", "--args", '{"x": 3}', "-o", "json")
    exec_id = result.json()["item"]["exec_id"]
    settle(exec_id, "waiting")

    def answer() -> None:
        with use_runtime(memory_runtime):
            time.sleep(0.3)
            KitaruClient().executions.input(exec_id, wait="approval", value=4)

    thread = threading.Thread(target=answer)
    thread.start()
    follow = cli("executions", "logs", exec_id, "-f", "--interval", "0.05", "-o", "json")
    thread.join()
    assert follow.exit_code == 0
    events = [json.loads(line) for line in follow.stdout.splitlines()]
    waiting = [e for e in events if e["event"] == "waiting"]
    assert len(waiting) == 1  # announced once, though polled many times
    assert waiting[0]["item"]["wait"] == "approval"
    assert waiting[0]["item"]["input_command"] == (
        f"kitaru executions input {exec_id} --value JSON"
    )
    assert events[-1] == {
        "command": "executions.logs",
        "event": "terminal",
        "item": {"exec_id": exec_id, "status": "completed"},
    }


def test_follow_interrupted(cli, memory_runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from kitaru_cli import _logs

    result = cli("run", "cli_flows:approve_flow", "--args", '{"x": 3}', "-o", "json")
    exec_id = result.json()["item"]["exec_id"]
    settle(exec_id, "waiting")

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_logs, "_sleep", interrupt)
    text = cli("executions", "logs", exec_id, "-f")
    assert text.exit_code == 1
    assert text.stdout.splitlines() == [
        "[Execution is waiting for input on: approval]",
        f"To answer it, run: kitaru executions input {exec_id} --value JSON",  # as run --wait
        "[Log follow interrupted]",
    ]
    data = cli("executions", "logs", exec_id, "-f", "-o", "json")
    assert json.loads(data.stdout.splitlines()[-1])["event"] == "interrupted"


@pytest.fixture
def fanned(cli, memory_runtime) -> str:
    """A fan-out (``double.map``: invocations double, double_2, double_3), one line each."""
    result = cli("run", "cli_flows:fan_flow", "--args", '{"x": 1}', "--wait", "-o", "json")
    assert result.exit_code == 0, result.stderr
    exec_id = result.json()["item"]["exec_id"]
    start = datetime.now(UTC)
    memory_runtime.backend.append_logs(
        [
            LogRecord(
                exec_id=exec_id,
                message=f"line of {inv}",
                timestamp=start + timedelta(seconds=i),
                invocation_id=inv,
            )
            for i, inv in enumerate(["double_3", "double", "double_2"])
        ]
    )
    return exec_id


def test_fan_out_lines_are_told_apart_by_invocation(cli, fanned: str) -> None:
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    lines = cli("executions", "logs", fanned, "-vv").stdout.splitlines()
    assert [re.sub(rf"^{stamp} INFO ", "", line) for line in lines] == [
        "[double_3] line of double_3",
        "[double] line of double",
        "[double_2] line of double_2",
    ]
    grouped = cli("executions", "logs", fanned, "--grouped").stdout.splitlines()
    sections = [line.split(" ─")[0] for line in grouped if line.startswith("── ")]
    # a section per invocation, in the flow's call order
    assert sections == [
        "── checkpoint: double",
        "── checkpoint: double_2",
        "── checkpoint: double_3",
    ]
    items = cli("executions", "logs", fanned, "-o", "json").json()["items"]
    assert [(i["checkpoint_name"], i["invocation_id"]) for i in items] == [
        ("double", "double_3"),
        ("double", "double"),
        ("double", "double_2"),
    ]


def test_checkpoint_selector_follows_spec_decision_8(cli, fanned: str) -> None:
    # an invocation id exactly: `double` is the first invocation, not all three
    only = cli("executions", "logs", fanned, "--checkpoint", "double")
    assert only.exit_code == 0
    assert only.stdout.splitlines() == ["line of double"]
    assert "also ran as double_2, double_3" in only.stderr
    assert cli("executions", "logs", fanned, "--checkpoint", "double_3").stdout == (
        "line of double_3\n"
    )
    call_id = next(
        c.call_id
        for c in KitaruClient().executions.get(fanned).checkpoints
        if c.invocation_id == "double_2"
    )
    by_call = cli("executions", "logs", fanned, "--checkpoint", call_id, "-o", "json").json()
    assert [i["invocation_id"] for i in by_call["items"]] == ["double_2"]


def test_checkpoint_name_shared_by_invocations_is_ambiguous(cli, memory_runtime) -> None:
    args = ("run", "cli_flows:named_ids_flow", "--args", '{"x": 1}', "--wait", "-o", "json")
    exec_id = cli(*args).json()["item"]["exec_id"]
    memory_runtime.backend.append_logs(
        [
            LogRecord(
                exec_id=exec_id, message="left", timestamp=datetime.now(UTC), invocation_id="left"
            )
        ]
    )
    result = cli("executions", "logs", exec_id, "--checkpoint", "double", "-o", "json")
    assert result.exit_code == 1
    error = result.error()
    assert error["type"] == "KitaruStateError"
    assert "'double' is ambiguous" in error["message"] and "left, right" in error["message"]
    assert cli("executions", "logs", exec_id, "--checkpoint", "left").stdout == "left\n"


def test_attempts_of_a_checkpoint_are_separated(cli, memory_runtime) -> None:
    result = cli("run", "cli_flows:flaky_flow", "--args", '{"x": 1}', "--wait", "-o", "json")
    assert result.exit_code == 0, result.stderr
    exec_id = result.json()["item"]["exec_id"]
    [call] = KitaruClient().executions.get(exec_id).checkpoints
    first, second = (a.started_at for a in call.attempts)
    tick = timedelta(microseconds=1)
    memory_runtime.backend.append_logs(
        [
            LogRecord(exec_id=exec_id, message=m, timestamp=t, invocation_id="flaky")
            for m, t in [("try", first + tick), ("boom", second - tick), ("try", second + tick)]
        ]
    )
    assert cli("executions", "logs", exec_id).stdout.splitlines() == [
        "try",
        "boom",
        "[Checkpoint flaky: attempt 2]",
        "try",
    ]
    two = cli("executions", "logs", exec_id, "-vv", "--grouped").stdout.splitlines()
    assert two[-2] == "[Checkpoint flaky: attempt 2]"
    assert two[-1].endswith("INFO [flaky, attempt 2] try")
    items = cli("executions", "logs", exec_id, "-o", "json").json()["items"]
    assert [i["attempt"] for i in items] == [1, 1, 2]


def test_verbose_is_shown_as_a_counted_flag(cli) -> None:
    text = cli("executions", "logs", "--help").stdout
    [line] = [line for line in text.splitlines() if "--verbose" in line]
    assert "<int>" not in line and "INTEGER" not in line
    assert "[default: 0]" not in text


def test_follow_prints_a_line_flushed_late_once_and_in_time_order_merges() -> None:
    """With --source all, lines are merged by time; a line journaled after later lines were
    printed lands before them. Follow must print it (once), not re-print a neighbour."""
    from collections import Counter

    from kitaru.client import LogEntry
    from kitaru_cli._logs import new_entries

    def line(ts: str, text: str, source: str = "step") -> LogEntry:
        return LogEntry(message=text, timestamp=ts, source=source, invocation_id="work")

    runner = line("2026-01-01T00:00:01", "runner line", "runner")
    late = line("2026-01-01T00:00:00.5", "step line flushed late")
    twice = line("2026-01-01T00:00:02", "same text, same time")
    printed: Counter[tuple[object, ...]] = Counter()
    assert new_entries([runner], printed) == [runner]
    assert new_entries([late, runner], printed) == [late]  # the old count-based follow: runner
    assert new_entries([late, runner, twice, twice], printed) == [twice, twice]
    assert new_entries([late, runner, twice, twice], printed) == []
