"""``kitaru executions list|get`` read SQLite journals with ``sqlite3`` (the SQL plugin's
journal reader) and, for ``-o json``, without Typer: the output is byte for byte what the
usual path (Typer, ``SqlBackend`` on SQLAlchemy) prints for the same journal, errors included.

The usual path is run in this process with a ``SqlBackend`` runtime in scope (the CLI then
uses it, as before); the fast paths run as the real console script, and through Typer in this
process with no runtime in scope.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kitaru.backend import (
    ArtifactRecord,
    CallState,
    ExecutionState,
    FailureRecord,
    Payload,
    SourceRef,
    WaitState,
)
from kitaru.errors import FailureOrigin
from kitaru.runtime import Runtime, use_runtime
from kitaru_testing import make_artifact, make_attempt, make_call, make_execution, make_wait
from typer.testing import CliRunner


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        return json.loads(self.stderr)["error"]  # type: ignore[no-any-return]


def _at(seconds: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=seconds)


def _lease(backend: Any, exec_id: str, seconds: float = 3600) -> Any:
    return backend.acquire_lease(
        exec_id, owner="runner-x", host="elsewhere", pid=4242, lease_seconds=seconds
    )


def _execution(backend: Any, exec_id: str, flow: str, created: int, **fields: Any) -> Any:
    return backend.create_execution(
        make_execution(
            exec_id=exec_id,
            flow_name=flow,
            source=SourceRef(module="app.flows", qualname=flow),
            created_at=_at(created),
            **fields,
        )
    )


def build_journal(runtime: Runtime) -> dict[str, str]:
    """Executions of three flows in every state, through the journal contract."""
    backend = runtime.backend
    ids: dict[str, str] = {}

    # completed, with calls (a retried one, parents, cached, overridden), attempts, flow
    # rounds, artifacts of every kind (an internal event among them) and a flow output
    done = _execution(
        backend, "d0e5a1b2-0000-4000-8000-000000000001", "alpha", 10, metadata={"k": [1, 2.5]}
    )
    ids["done"] = exec_id = done.exec_id
    run = _lease(backend, exec_id)
    plan = make_call(exec_id, "plan", seq=0, parent_invocation_ids=(), started_at=_at(11))
    search = make_call(
        exec_id,
        "search",
        seq=1,
        parent_invocation_ids=("plan",),
        started_at=_at(12),
        cached_from="other/search",
        metadata={"tokens": {"in": 3}, "note": "ünï ☃"},
    )
    fixed = make_call(exec_id, "fix_2", seq=2, overridden=True, checkpoint_type=None)
    failed_try = make_attempt(
        exec_id,
        "search",
        number=1,
        state=CallState.FAILED,
        started_at=_at(12),
        failure=FailureRecord(message="flaky", exception_type="OSError", traceback="tb"),
    )
    for call, attempts in ((plan, []), (search, [failed_try]), (fixed, [])):
        backend.save_call(
            exec_id,
            run.epoch,
            call,
            attempts=[*attempts, make_attempt(exec_id, call.invocation_id, number=2)],
            artifacts=[
                make_artifact(
                    exec_id,
                    artifact_id=call.output_artifact_id,
                    name=call.name,
                    save_type="step_output",
                    invocation_id=call.invocation_id,
                    kind=None,
                    tags=(),
                )
            ],
        )
    backend.save_attempt(exec_id, run.epoch, make_attempt(exec_id, None, started_at=_at(10)))
    backend.put_artifacts(
        exec_id,
        run.epoch,
        [
            make_artifact(exec_id, name="notes", invocation_id=None, created_at=_at(13)),
            make_artifact(exec_id, name="child", save_type="event", created_at=_at(14)),
        ],
    )
    output = ArtifactRecord(
        artifact_id="art-flow-output",
        exec_id=exec_id,
        name="output",
        payload=runtime.encode({"answer": 42, "words": ["a", "b"]}),
        save_type="flow_output",
        created_at=_at(15),
    )
    backend.put_artifact(exec_id, run.epoch, output)
    backend.merge_metadata(exec_id, run.epoch, {"progress": {"plan": "done"}})
    backend.finish(
        exec_id, run.epoch, state=ExecutionState.COMPLETED, result_artifact_id=output.artifact_id
    )

    # failed with a failure; failed without one (the client's fallback message)
    failed = _execution(backend, "f00d0000-0000-4000-8000-000000000002", "beta", 20)
    ids["failed"] = failed.exec_id
    run = _lease(backend, failed.exec_id)
    backend.finish(
        failed.exec_id,
        run.epoch,
        state=ExecutionState.FAILED,
        status_reason="boom",
        failure=FailureRecord(
            message="boom: ünï",
            exception_type="ValueError",
            traceback="Traceback (most recent call last):\nValueError: boom",
            origin=FailureOrigin.USER_CODE,
        ),
    )
    bare = _execution(backend, "f00d0000-0000-4000-8000-000000000003", "beta", 21)
    ids["failed_bare"] = bare.exec_id
    run = _lease(backend, bare.exec_id)
    backend.finish(bare.exec_id, run.epoch, state=ExecutionState.FAILED)

    # waiting (suspended), and running with a pending wait (reads "waiting"), and running
    waiting = _execution(backend, "3a170000-0000-4000-8000-000000000004", "alpha", 30)
    ids["waiting"] = waiting.exec_id
    run = _lease(backend, waiting.exec_id)
    backend.create_wait(waiting.exec_id, run.epoch, make_wait(waiting.exec_id, created_at=_at(31)))
    assert backend.suspend(waiting.exec_id, run.epoch)
    blocked = _execution(backend, "b10c0000-0000-4000-8000-000000000005", "gamma", 40)
    ids["blocked"] = blocked.exec_id
    run = _lease(backend, blocked.exec_id)
    backend.create_wait(
        blocked.exec_id, run.epoch, make_wait(blocked.exec_id, "review", question=None)
    )
    running = _execution(backend, "2a110000-0000-4000-8000-000000000006", "gamma", 40)
    ids["running"] = running.exec_id
    run = _lease(backend, running.exec_id)
    # a completed call, and one journaled as running while it runs (its second attempt)
    first = make_call(running.exec_id, "plan", seq=0, started_at=_at(41))
    backend.save_call(
        running.exec_id,
        run.epoch,
        first,
        attempts=[make_attempt(running.exec_id, "plan", started_at=_at(41))],
    )
    busy = make_call(
        running.exec_id,
        "search",
        seq=1,
        state=CallState.RUNNING,
        started_at=_at(42),
        ended_at=None,
        output_artifact_id=None,
        metadata={},
    )
    backend.save_call(
        running.exec_id,
        run.epoch,
        busy,
        attempts=[
            make_attempt(
                running.exec_id,
                "search",
                state=CallState.FAILED,
                started_at=_at(42),
                ended_at=_at(43),
                failure=FailureRecord(message="flaky"),
            ),
            make_attempt(
                running.exec_id,
                "search",
                attempt_id=busy.call_id,
                number=2,
                state=CallState.RUNNING,
                started_at=_at(44),
                ended_at=None,
            ),
        ],
    )

    # a replay of the completed one; a cancelled one; a pending one; a numeric wait value
    replay = _execution(
        backend,
        "2e910000-0000-4000-8000-000000000007",
        "alpha",
        50,
        original_exec_id=ids["done"],
        replay_plan={"reuse": {"plan": plan.output_artifact_id}, "overrides": {}},
        inputs=Payload(serializer="json", inline=b'{"x": 3}', size=8, sha256="1" * 64),
    )
    ids["replay"] = replay.exec_id
    run = _lease(backend, replay.exec_id)
    answered = backend.create_wait(replay.exec_id, run.epoch, make_wait(replay.exec_id))
    backend.resolve_wait(replay.exec_id, answered.wait_id, state=WaitState.RESOLVED, value=42)
    # answered with null (shown as a value all the same), and one aborted
    nothing = backend.create_wait(
        replay.exec_id, run.epoch, make_wait(replay.exec_id, "nothing", created_at=_at(51))
    )
    backend.resolve_wait(replay.exec_id, nothing.wait_id, state=WaitState.RESOLVED, value=None)
    dropped = backend.create_wait(
        replay.exec_id, run.epoch, make_wait(replay.exec_id, "dropped", created_at=_at(52))
    )
    backend.resolve_wait(replay.exec_id, dropped.wait_id, state=WaitState.ABORTED)
    backend.finish(replay.exec_id, run.epoch, state=ExecutionState.COMPLETED)
    cancelled = _execution(backend, "abcdef01-0000-4000-8000-000000000008", "beta", 60)
    ids["cancelled"] = cancelled.exec_id
    backend.request_cancel(cancelled.exec_id)
    pending = _execution(backend, "abcdef02-0000-4000-8000-000000000009", "gamma", 60)
    ids["pending"] = pending.exec_id
    return ids


@pytest.fixture
def journal(isolated_config: Path) -> Iterator[dict[str, str]]:
    runtime = Runtime.from_environment()
    try:
        yield build_journal(runtime)
    finally:
        runtime.close()


@pytest.fixture
def usual(isolated_config: Path) -> Iterator[Callable[..., Result]]:
    """The CLI as before: Typer, with a SqlBackend runtime in scope."""
    from kitaru_cli import app

    runtime = Runtime.from_environment()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        with use_runtime(runtime):
            outcome = runner.invoke(app, list(args))
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    yield invoke
    runtime.close()


def _typer_with_reader(*args: str) -> Result:
    from kitaru_cli import app

    outcome = CliRunner().invoke(app, list(args))
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


JSON_CASES = [
    ["executions", "list", "-o", "json"],
    ["executions", "list", "--output", "json", "--status", "waiting"],
    ["executions", "list", "-o", "json", "--status=FAILED"],
    ["executions", "list", "-o", "json", "--status", "running"],
    ["executions", "list", "-o", "json", "--status", "completed", "--flow", "alpha"],
    ["executions", "list", "-o", "json", "--status", "cancelled"],
    ["executions", "list", "-o", "json", "--flow", "gamma"],
    ["executions", "list", "-o", "json", "--flow=beta", "--limit", "1"],
    ["executions", "list", "-o", "json", "--limit", "3"],
    ["executions", "list", "-o", "json", "--limit", "2", "--status", "waiting"],
    ["executions", "list", "-o", "json", "--flow", "nope"],
    ["executions", "list", "-o", "json", "--status", "bogus"],
    ["executions", "list", "-o", "json", "--limit", "0"],
    ["executions", "list", "-o", "json", "--flow", " "],
    ["executions", "get", "{done}", "-o", "json"],
    ["executions", "get", "-o", "json", "{failed}"],
    ["executions", "get", "{failed_bare}", "-o", "json"],
    ["executions", "get", "{waiting}", "-o", "json"],
    ["executions", "get", "{blocked}", "-o", "json"],
    ["executions", "get", "{running}", "-o", "json"],
    ["executions", "get", "{replay}", "-o", "json"],
    ["executions", "get", "{cancelled}", "-o", "json"],
    ["executions", "get", "{pending}", "-o", "json"],
    ["executions", "get", "d0e5a1", "-o", "json"],  # a unique prefix
    ["executions", "get", "D0E5A1B2", "-o", "json"],  # ids are case-insensitive
    ["executions", "get", "D0E5A1B2-0000-4000-8000-000000000001", "-o", "json"],
    ["executions", "get", "ABCDEF0", "-o", "json"],  # still ambiguous
    ["executions", "get", "abcdef0", "-o", "json"],  # an ambiguous one
    ["executions", "get", "abc", "-o", "json"],  # too short
    ["executions", "get", "ffffffff-0000-4000-8000-000000000000", "-o", "json"],
]
TEXT_CASES = [
    ["executions", "list"],
    ["executions", "list", "--status", "waiting"],
    ["executions", "get", "{done}"],
    ["executions", "get", "{failed}"],
    ["executions", "get", "{blocked}"],
    ["executions", "get", "{running}"],
    ["executions", "get", "{replay}"],
    ["executions", "get", "abcdef0"],
]


def _fill(args: list[str], ids: dict[str, str]) -> list[str]:
    return [a.format(**ids) for a in args]


def _same(expected: Result, actual: Result) -> None:
    assert (actual.exit_code, actual.stdout, actual.stderr) == (
        expected.exit_code,
        expected.stdout,
        expected.stderr,
    )


@pytest.mark.parametrize("args", JSON_CASES, ids=" ".join)
def test_json_equals_the_usual_path(
    args: list[str], journal: dict[str, str], usual: Callable[..., Result], kitaru_exe: Any
) -> None:
    argv = _fill(args, journal)
    expected = usual(*argv)
    _same(expected, kitaru_exe(*argv))  # no Typer, sqlite3 reader
    _same(expected, _typer_with_reader(*argv))  # Typer, sqlite3 reader
    if expected.exit_code == 0:
        document = expected.json()
        assert document["command"] == f"executions.{args[1]}"
    else:
        assert expected.stdout == ""
        assert expected.error()["message"]


@pytest.mark.parametrize("args", TEXT_CASES, ids=" ".join)
def test_text_equals_the_usual_path(
    args: list[str], journal: dict[str, str], usual: Callable[..., Result], kitaru_exe: Any
) -> None:
    argv = _fill(args, journal)
    expected = usual(*argv)
    _same(expected, kitaru_exe(*argv))
    _same(expected, _typer_with_reader(*argv))


def test_the_journal_has_every_case(journal: dict[str, str], usual: Callable[..., Result]) -> None:
    items = {i["exec_id"]: i for i in usual("executions", "list", "-o", "json").json()["items"]}
    status = {name: items[exec_id]["status"] for name, exec_id in journal.items()}
    assert status == {
        "done": "completed",
        "failed": "failed",
        "failed_bare": "failed",
        "waiting": "waiting",
        "blocked": "waiting",
        "running": "running",
        "replay": "completed",
        "cancelled": "cancelled",
        "pending": "running",
    }
    done = usual("executions", "get", journal["done"], "-o", "json").json()["item"]
    assert done["artifact_count"] == 5 and len(done["checkpoints"]) == 3
    assert items[journal["failed_bare"]]["failure"]["message"].endswith("failed.")
    busy = usual("executions", "get", journal["running"], "-o", "json").json()["item"]
    assert [c["status"] for c in busy["checkpoints"]] == ["completed", "running"]
    assert [a["status"] for a in busy["checkpoints"][1]["attempts"]] == ["failed", "running"]
    assert "ended_at" not in busy["checkpoints"][1]
    replay = usual("executions", "get", journal["replay"], "-o", "json").json()["item"]
    assert replay["original_exec_id"] == journal["done"]
    # the flow's result, the waits with the values stored for them, cache hits
    assert done["result"] == {"answer": 42, "words": ["a", "b"]}
    assert {w["name"]: (w["status"], w.get("value", "-")) for w in replay["waits"]} == {
        "approve": ("resolved", 42),
        "nothing": ("resolved", None),
        "dropped": ("aborted", "-"),
    }
    assert "result" not in replay  # it returned nothing (no flow output)
    text = usual("executions", "get", journal["replay"]).stdout.splitlines()
    assert "  Resolved wait: approve = 42" in text
    assert "  Resolved wait: nothing = null" in text
    assert "  Aborted wait: dropped" in text
    shown = usual("executions", "get", journal["done"]).stdout.splitlines()
    assert any(line.startswith("  Cached: search from other/search (") for line in shown)


def test_json_reads_neither_typer_nor_sqlalchemy(journal: dict[str, str]) -> None:
    code = (
        "import sys; from kitaru_cli.app import main\n"
        f"assert main(['executions', 'list', '-o', 'json']) == 0\n"
        f"assert main(['executions', 'get', {journal['done']!r}, '-o', 'json']) == 0\n"
        "heavy = sorted(m for m in ('typer', 'click', 'pydantic', 'sqlalchemy', 'alembic', "
        "'rich') if m in sys.modules)\n"
        "print('HEAVY:' + ','.join(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr.strip().splitlines()[-1] == "HEAVY:"


def test_a_lost_runner_is_reaped_through_the_usual_backend(
    isolated_config: Path, kitaru_exe: Any
) -> None:
    """The reader never writes; the client's lost-runner check still marks the execution
    failed, through SqlBackend, as it did before."""
    runtime = Runtime.from_environment()
    record = _execution(runtime.backend, "10570000-0000-4000-8000-00000000000a", "alpha", 1)
    _lease(runtime.backend, record.exec_id, seconds=0.001)
    result = kitaru_exe("executions", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    [item] = result.json()["items"]
    assert item["status"] == "failed"
    assert item["failure"]["origin"] == "runtime"
    assert "Runner lost" in item["failure"]["message"]
    stored = runtime.backend.get_execution(record.exec_id)
    assert stored.state is ExecutionState.FAILED
    again = kitaru_exe("executions", "get", record.exec_id, "-o", "json").json()["item"]
    assert again["ended_at"] == item["ended_at"]
    runtime.close()


@pytest.mark.parametrize(
    "args",
    [
        ["executions", "list", "-o", "json", "--help"],
        ["executions", "list", "-o", "json", "--limit", "x"],
        ["executions", "list", "-o", "json", "--limit", "-1"],
        ["executions", "list", "-o", "json", "--status", "failed", "--status", "waiting"],
        ["executions", "list", "-o", "yaml"],
        ["executions", "list", "extra", "-o", "json"],
        ["executions", "get", "-o", "json"],
        ["executions", "get", "a", "b", "-o", "json"],
        ["executions", "get", "abcdef", "-o", "json", "--status", "x"],
    ],
    ids=" ".join,
)
def test_other_command_lines_go_through_typer(
    args: list[str], journal: dict[str, str], usual: Callable[..., Result], kitaru_exe: Any
) -> None:
    from kitaru_cli import _fast

    assert _fast.parse(args) is None
    expected = usual(*args)
    _same(expected, kitaru_exe(*args))


def test_a_missing_journal_is_created_as_before(isolated_config: Path, kitaru_exe: Any) -> None:
    assert not (isolated_config / "kitaru.db").exists()
    result = kitaru_exe("executions", "list", "-o", "json")
    assert (result.exit_code, result.json()) == (
        0,
        {"command": "executions.list", "items": [], "count": 0},
    )
    assert (isolated_config / "kitaru.db").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["executions", "list", "-o", "json"],
        ["executions", "get", "abcdef12", "-o", "json"],
        ["executions", "list"],
    ],
    ids=" ".join,
)
def test_a_journal_in_a_missing_folder_is_an_error(
    args: list[str], tmp_path: Path, kitaru_exe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped KITARU_STORE_URL is not an empty journal: exit 1, naming the folder."""
    folder = tmp_path / "no-such-folder" / "sub"
    url = f"sqlite:///{folder / 'kitaru.db'}"
    kitaru_exe.env["KITARU_STORE_URL"] = url  # type: ignore[attr-defined]
    monkeypatch.setenv("KITARU_STORE_URL", url)
    fast = kitaru_exe(*args)
    _same(fast, _typer_with_reader(*args))
    assert fast.exit_code == 1 and fast.stdout == ""
    message = f"The journal folder '{folder}' does not exist (journal {url}, from KITARU_STORE_URL)"
    if "json" in args:
        assert fast.error()["type"] == "KitaruUsageError"
        assert fast.error()["message"].startswith(message)
    else:
        assert fast.stderr.startswith(f"Error: {message}")
    assert not (tmp_path / "no-such-folder").exists()
