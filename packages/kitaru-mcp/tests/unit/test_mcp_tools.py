"""Every tool through an in-process ``mcp.Client(server)``, on the in-process journal.

Error paths check three things: the call is an MCP error result (``is_error``), its text
names the Kitaru error type and says what went wrong, and nothing changed (the execution
list is the same before and after).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.anyio

BUILTIN = {
    "kitaru_executions_list",
    "kitaru_executions_get",
    "kitaru_executions_latest",
    "get_execution_logs",
    "kitaru_executions_run",
    "kitaru_executions_pending_waits",
    "kitaru_executions_input",
    "kitaru_executions_abort_wait",
    "kitaru_executions_retry",
    "kitaru_executions_resume",
    "kitaru_executions_replay",
    "kitaru_executions_cancel",
    "kitaru_artifacts_list",
    "kitaru_artifacts_get",
    "kitaru_status",
    "kitaru_stacks_list",
    "manage_stack",
}


async def _start(call: Any, flow: str, **args: Any) -> str:
    started = await call("kitaru_executions_run", target=f"flows.py:{flow}", args=args)
    return str(started["exec_id"])


async def test_tools_are_listed_with_precise_input_schemas(mcp_client: Any) -> None:
    tools = {t.name: t for t in (await mcp_client.list_tools()).tools}
    assert set(tools) == BUILTIN
    for tool in tools.values():
        assert tool.description and tool.description.strip()
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    listing = tools["kitaru_executions_list"].input_schema["properties"]
    assert {"minimum": 1, "type": "integer"} in listing["limit"]["anyOf"]
    statuses = listing["status"]["anyOf"][0]["enum"]
    assert statuses == ["running", "waiting", "completed", "failed", "cancelled"]
    logs = tools["get_execution_logs"].input_schema["properties"]
    assert logs["limit"] == {**logs["limit"], "default": 200, "minimum": 1}
    assert tools["kitaru_executions_input"].input_schema["required"] == ["exec_id", "wait", "value"]
    assert tools["kitaru_executions_get"].annotations.read_only_hint is True
    assert tools["kitaru_executions_cancel"].annotations.destructive_hint is True


async def test_run_wait_input_complete(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    started = await call("kitaru_executions_run", target="flows.py:approval", args={"x": 3})
    assert set(started) == {"exec_id", "target", "execution", "warning"}
    assert started["target"] == "flows.py:approval" and started["warning"] is None
    exec_id = started["exec_id"]
    assert started["execution"]["exec_id"] == exec_id
    assert started["execution"]["flow_name"] == "approval"

    waiting = await poll(exec_id[:8], "waiting")  # a unique prefix is enough
    wait = waiting["pending_wait"]
    assert wait["name"] == "extra" and wait["question"] == "How much to add?"
    assert wait["schema"] == {"type": "integer"}
    pending = await call("kitaru_executions_pending_waits", exec_id=exec_id)
    assert [w["wait_id"] for w in pending] == [wait["wait_id"]]

    # A value that does not fit is a tool error that says what to send; the wait stays pending.
    before = await call("kitaru_executions_list")
    text = await call_error("kitaru_executions_input", exec_id=exec_id, wait="extra", value="five")
    assert "KitaruWaitValidationError" in text
    assert "must be JSON integer, got string" in text and "is still pending" in text
    text = await call_error("kitaru_executions_input", exec_id=exec_id, wait="extra", value=[5])
    assert "got array" in text
    text = await call_error("kitaru_executions_input", exec_id=exec_id, wait="nope", value=5)
    assert "KitaruStateError" in text and "no pending wait 'nope'" in text
    assert await call("kitaru_executions_list") == before
    assert (await call("kitaru_executions_get", exec_id=exec_id))["pending_wait"] == wait

    # "5" is converted to 5 as pydantic's lax mode does (SPEC decision 11).
    answered = await call("kitaru_executions_input", exec_id=exec_id[:10], wait="extra", value="5")
    assert answered["exec_id"] == exec_id and "pending_wait" not in answered
    done = await poll(exec_id, "completed")
    assert [c["name"] for c in done["checkpoints"]] == ["double", "add"]
    assert all(c["status"] == "completed" for c in done["checkpoints"])
    assert done["checkpoint_count"] == 2 and done["artifact_count"] == len(done["artifacts"])
    result = next(a for a in done["artifacts"] if a["name"] == "result")
    assert result["save_type"] == "flow_output"
    value = await call("kitaru_artifacts_get", artifact_id=result["artifact_id"])
    assert (value["value"], value["value_format"], value["value_type"]) == (11, "json", "int")
    text = await call_error("kitaru_executions_input", exec_id=exec_id, wait="extra", value=5)
    assert "KitaruStateError" in text and "no pending waits" in text


async def test_list_get_latest_and_filters(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    assert await call("kitaru_executions_list") == []
    text = await call_error("kitaru_executions_latest")
    assert text.endswith("LookupError: No executions found.")
    first = await _start(call, "simple", x=1)
    await poll(first, "completed")
    second = await _start(call, "simple", x=2)
    await poll(second, "completed")

    items = await call("kitaru_executions_list")
    assert [e["exec_id"] for e in items] == [second, first]
    summary = items[0]
    assert {
        "exec_id",
        "flow_id",
        "flow_name",
        "status",
        "started_at",
        "ended_at",
        "stack_name",
        "metadata",
        "checkpoint_count",
        "artifact_count",
    } <= set(summary)
    assert "checkpoints" not in summary and "frozen_execution_spec" not in summary
    assert (summary["checkpoint_count"], summary["artifact_count"]) == (1, 2)
    assert [e["exec_id"] for e in await call("kitaru_executions_list", limit=1)] == [second]
    assert await call("kitaru_executions_list", flow="approval") == []
    assert len(await call("kitaru_executions_list", status="completed", flow="simple")) == 2
    assert await call("kitaru_executions_list", status="waiting") == []
    assert len(await call("kitaru_executions_list", stack="default", limit=5)) == 2
    assert await call("kitaru_executions_list", stack="elsewhere") == []

    latest = await call("kitaru_executions_latest", flow="simple")
    assert latest["exec_id"] == second and latest["checkpoints"][0]["name"] == "double"
    assert (await call("kitaru_executions_latest", stack="default"))["exec_id"] == second
    text = await call_error("kitaru_executions_latest", stack="elsewhere")
    assert "LookupError: No executions found for stack='elsewhere'." in text
    text = await call_error("kitaru_executions_latest", status="failed")
    assert "LookupError" in text

    full = await call("kitaru_executions_get", exec_id=first)
    assert full["frozen_execution_spec"]["resolved_execution"]["stack"] == "default"
    checkpoint = full["checkpoints"][0]
    assert {"call_id", "name", "status", "attempts", "artifacts"} <= set(checkpoint)
    assert checkpoint["artifacts"][0]["save_type"] == "step_output"

    # Arguments outside the input schema never reach the tool.
    assert "greater than or equal to 1" in await call_error("kitaru_executions_list", limit=0)
    assert "Input should be" in await call_error("kitaru_executions_list", status="done")


async def test_unknown_execution_ids_are_errors(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    exec_id = await _start(call, "simple", x=1)
    await poll(exec_id, "completed")
    before = await call("kitaru_executions_list")
    unknown = "00000000-0000-4000-8000-000000000000"
    for tool, extra in (
        ("kitaru_executions_get", {}),
        ("kitaru_executions_pending_waits", {}),
        ("kitaru_executions_input", {"wait": "extra", "value": 1}),
        ("kitaru_executions_abort_wait", {"wait": "extra"}),
        ("kitaru_executions_retry", {}),
        ("kitaru_executions_resume", {}),
        ("kitaru_executions_replay", {"from_": "double"}),
        ("kitaru_executions_cancel", {}),
        ("get_execution_logs", {}),
        ("kitaru_artifacts_list", {}),
    ):
        text = await call_error(tool, exec_id=unknown, **extra)
        assert f"KitaruStateError: Execution '{unknown}' was not found." in text, (tool, text)
    text = await call_error("kitaru_executions_get", exec_id="abc")
    assert "KitaruUsageError" in text and "at least 6 characters" in text
    text = await call_error("kitaru_artifacts_get", artifact_id="no-such-artifact")
    assert "KitaruStateError" in text
    assert await call("kitaru_executions_list") == before


async def test_bad_targets_are_errors(
    flows_file: Path, tmp_path: Path, call: Any, call_error: Any
) -> None:
    (tmp_path / "broken.py").write_text("import kitaru\nraise RuntimeError('boom at import')\n")
    cases = {
        "flows.py": "Flow target must use `<module_or_file>:<flow_name>` format",
        "flows.py:": "Flow target must use `<module_or_file>:<flow_name>` format",
        "missing.py:approval": "Flow file 'missing.py' does not exist",
        "flows.py:nope": "'flows.py' has no attribute 'nope'",
        "flows.py:not_a_flow": "'not_a_flow' in 'flows.py' is not a @flow",
        "no_such_module_xyz:flow": "Cannot import module 'no_such_module_xyz'",
        "broken.py:anything": "RuntimeError: boom at import",
    }
    for target, message in cases.items():
        text = await call_error("kitaru_executions_run", target=target)
        assert message in text, (target, text)
        if "RuntimeError" not in message:
            assert "KitaruUsageError" in text, (target, text)
    text = await call_error("kitaru_executions_run", target="flows.py:approval", args={"y": 1})
    assert "KitaruUsageError: Flow 'approval' has no parameter 'y'. Parameters: x." in text
    text = await call_error(
        "kitaru_executions_run", target="flows.py:simple", args={"x": 1}, stack="nowhere"
    )
    assert "KitaruUsageError" in text and "nowhere" in text
    assert await call("kitaru_executions_list") == []


async def test_retry_resume_and_cancel_state_errors(
    flows_file: Path, tmp_path: Path, call: Any, call_error: Any, poll: Any
) -> None:
    (tmp_path / "fail.flag").write_text("")
    failing = await _start(call, "fragile", x=2)
    failed = await poll(failing, "failed")
    assert failed["failure"]["exception_type"] == "ValueError"
    assert "flaky failed on purpose" in failed["failure"]["message"]

    done = await _start(call, "simple", x=1)
    await poll(done, "completed")
    before = await call("kitaru_executions_list")
    text = await call_error("kitaru_executions_retry", exec_id=done)
    assert text.endswith(
        f"KitaruStateError: Only failed executions can be retried. Execution '{done}' is "
        "currently 'completed'."
    )
    assert "KitaruStateError" in await call_error("kitaru_executions_cancel", exec_id=done)
    assert "KitaruStateError" in await call_error("kitaru_executions_resume", exec_id=failing)
    assert await call("kitaru_executions_list") == before

    (tmp_path / "fail.flag").unlink()
    retried = await call("kitaru_executions_retry", exec_id=failing[:8])
    assert retried["exec_id"] == failing
    completed = await poll(failing, "completed")
    assert [c["name"] for c in completed["checkpoints"]] == ["double", "flaky"]
    assert len(await call("kitaru_executions_list")) == 2  # same id, no new execution


async def test_abort_wait_resume_and_cancel(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    exec_id = await _start(call, "approval", x=1)
    await poll(exec_id, "waiting")
    text = await call_error("kitaru_executions_resume", exec_id=exec_id)
    assert "KitaruStateError: Resolve pending wait input before resuming" in text
    aborted = await call("kitaru_executions_abort_wait", exec_id=exec_id, wait="extra")
    assert aborted["exec_id"] == exec_id
    await poll(exec_id, "cancelled")

    other = await _start(call, "approval", x=1)
    await poll(other, "waiting")
    cancelled = await call("kitaru_executions_cancel", exec_id=other)
    assert cancelled["exec_id"] == other
    await poll(other, "cancelled")
    text = await call_error("kitaru_executions_abort_wait", exec_id=other, wait="extra")
    assert "KitaruStateError" in text


async def test_replay_creates_a_new_execution(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    source = await _start(call, "simple", x=4)
    await poll(source, "completed")
    before = await call("kitaru_executions_list")
    text = await call_error("kitaru_executions_replay", exec_id=source, from_="nope")
    assert "nope" in text and ("KitaruStateError" in text or "KitaruUsageError" in text)
    text = await call_error(
        "kitaru_executions_replay", exec_id=source, from_="double", flow_inputs={"nope": 1}
    )
    assert "KitaruUsageError: Flow 'simple' has no parameter 'nope'" in text
    assert await call("kitaru_executions_list") == before

    replay = await call(
        "kitaru_executions_replay", exec_id=source[:8], from_="double", flow_inputs={"x": 5}
    )
    assert replay["available"] is True and replay["operation"] == "replay"
    new = replay["execution"]
    assert new["exec_id"] != source and new["original_exec_id"] == source
    done = await poll(new["exec_id"], "completed")
    result = next(a for a in done["artifacts"] if a["name"] == "result")
    assert (await call("kitaru_artifacts_get", artifact_id=result["artifact_id"]))["value"] == 10

    overridden = await call(
        "kitaru_executions_replay",
        exec_id=source,
        from_="double",
        overrides={"checkpoint.double": 99},
    )
    done = await poll(overridden["execution"]["exec_id"], "completed")
    result = next(a for a in done["artifacts"] if a["name"] == "result")
    assert (await call("kitaru_artifacts_get", artifact_id=result["artifact_id"]))["value"] == 99


async def test_logs_as_plain_text(flows_file: Path, call: Any, call_error: Any, poll: Any) -> None:
    exec_id = await _start(call, "simple", x=7)
    await poll(exec_id, "completed")
    text = await call("get_execution_logs", exec_id=exec_id)
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].endswith("INFO [double] doubling 7")
    assert lines[0].split(" ")[0].startswith("20")  # an ISO timestamp first
    assert await call("get_execution_logs", exec_id=exec_id, checkpoint="double") == text
    assert await call("get_execution_logs", exec_id=exec_id, source="runner") == (
        "No log entries found."
    )
    text = await call_error("get_execution_logs", exec_id=exec_id, checkpoint="nope")
    assert "KitaruStateError" in text and "no checkpoint 'nope'" in text
    text = await call_error(
        "get_execution_logs", exec_id=exec_id, checkpoint="double", source="runner"
    )
    assert "KitaruUsageError" in text
    assert "greater than or equal to 1" in await call_error(
        "get_execution_logs", exec_id=exec_id, limit=0
    )


async def test_logs_tell_fan_out_invocations_apart(flows_file: Path, call: Any, poll: Any) -> None:
    exec_id = await _start(call, "fan", x=1)
    await poll(exec_id, "completed")
    text = await call("get_execution_logs", exec_id=exec_id)
    tags = sorted(line.split(" ", 2)[2] for line in text.splitlines())
    assert tags == ["[double] doubling 1", "[double_2] doubling 2"]
    only = await call("get_execution_logs", exec_id=exec_id, checkpoint="double_2")
    assert only.endswith("[double_2] doubling 2") and len(only.splitlines()) == 1


async def test_artifacts_list_and_get(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    exec_id = await _start(call, "keeper")
    await poll(exec_id, "completed")
    refs = await call("kitaru_artifacts_list", exec_id=exec_id)
    assert {r["name"] for r in refs} == {"opaque", "numbers", "output", "result"}
    assert [
        r["name"] for r in await call("kitaru_artifacts_list", exec_id=exec_id, name="numbers")
    ] == ["numbers"]
    assert len(await call("kitaru_artifacts_list", exec_id=exec_id, limit=1)) == 1
    assert await call("kitaru_artifacts_list", exec_id=exec_id, producing_call="nope") == []
    by_name = {r["name"]: r for r in refs}
    assert by_name["numbers"]["save_type"] == "manual"

    numbers = await call("kitaru_artifacts_get", artifact_id=by_name["numbers"]["artifact_id"])
    assert numbers["value"] == {"a": [1, 2]} and numbers["value_format"] == "json"
    assert numbers["value_type"] == "dict"
    opaque = await call("kitaru_artifacts_get", artifact_id=by_name["opaque"]["artifact_id"])
    assert (opaque["value"], opaque["value_format"]) == ("Opaque()", "repr")
    assert opaque["value_type"].endswith(".Opaque")
    assert "greater than or equal to 1" in await call_error(
        "kitaru_artifacts_list", exec_id=exec_id, limit=0
    )


async def test_status_and_stacks(call: Any, call_error: Any, isolated: Path) -> None:
    status = await call("kitaru_status")
    assert status["connection"] == "local database"
    assert status["store_url"] == "memory://"
    assert status["config_dir"] == str(isolated.resolve())
    assert status["artifact_store"] == str(isolated / "artifacts")
    assert status["active_stack"] == "default" and status["active_stack_type"] == "local"
    assert {p["name"] for p in status["plugins"]} >= {"kitaru.builtin", "mcp", "sql"}

    stacks = await call("kitaru_stacks_list")
    assert stacks == [{"id": "default", "name": "default", "is_active": True, "is_managed": False}]


async def test_manage_stack_is_never_a_silent_no_op(call: Any, call_error: Any) -> None:
    import kitaru

    before = await call("kitaru_stacks_list")
    if not hasattr(kitaru, "create_stack"):
        text = await call_error("manage_stack", action="create", name="mine")
        assert "KitaruFeatureNotAvailableError: Stack management is not available yet" in text
        assert await call("kitaru_stacks_list") == before
        return
    # Core manages stacks: options that do not apply are rejected, changing nothing.
    text = await call_error("manage_stack", action="create", name="mine", cluster="c")
    assert "KitaruUsageError" in text and "cluster" in text
    text = await call_error("manage_stack", action="delete", name="default", region="eu")
    assert "KitaruUsageError" in text and "region" in text
    text = await call_error("manage_stack", action="create", name="mine", async_mode=True)
    assert "KitaruUsageError" in text
    assert await call("kitaru_stacks_list") == before

    created = await call("manage_stack", action="create", name="mine")
    assert created["name"] == "mine" and created["is_active"] is True
    assert created["previous_active_stack"] == "default" and created["stack_type"] == "local"
    assert {s["name"]: s["is_active"] for s in await call("kitaru_stacks_list")} == {
        "default": False,
        "mine": True,
    }
    text = await call_error("manage_stack", action="delete", name="mine")
    assert "KitaruStateError" in text  # active: needs force
    deleted = await call("manage_stack", action="delete", name="mine", force=True)
    assert deleted == {
        "deleted_stack": "mine",
        "components_deleted": [],
        "new_active_stack": "default",
        "recursive": False,
    }
    assert await call("kitaru_stacks_list") == before
    text = await call_error("manage_stack", action="delete", name="default")
    assert "KitaruStateError" in text


async def test_run_inputs_are_checked_against_the_flow_signature(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    text = await call_error("kitaru_executions_run", target="flows.py:simple", args={"x": "abc"})
    assert "KitaruUsageError" in text
    assert "Invalid inputs for flow 'simple': x: Input should be a valid integer" in text
    assert await call("kitaru_executions_list") == []  # nothing started
    started = await call("kitaru_executions_run", target="flows.py:simple", args={"x": "4"})
    done = await poll(started["exec_id"], "completed")
    result = next(a for a in done["artifacts"] if a["name"] == "result")
    value = await call("kitaru_artifacts_get", artifact_id=result["artifact_id"])
    assert value["value"] == 8  # "4" became 4, as pydantic's lax mode converts it
