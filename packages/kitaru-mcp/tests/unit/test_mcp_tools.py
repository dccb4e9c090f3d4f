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
    abort = tools["kitaru_executions_abort_wait"].input_schema["properties"]["wait"]
    assert abort["description"].startswith("The pending wait to abort:")


async def test_every_tool_is_fully_annotated(mcp_client: Any) -> None:
    """readOnlyHint on the read tools; destructiveHint and idempotentHint always set (never
    left to the protocol defaults, which assume a tool may destroy data)."""
    tools = {t.name: t for t in (await mcp_client.list_tools()).tools}
    hints = {
        name: (
            t.annotations.read_only_hint,
            t.annotations.destructive_hint,
            t.annotations.idempotent_hint,
        )
        for name, t in tools.items()
    }
    assert all(
        name.startswith("kitaru_") or name in ("get_execution_logs", "manage_stack")
        for name in hints
    )
    read = {n for n, (ro, _, _) in hints.items() if ro}
    assert read == {
        "kitaru_executions_list",
        "kitaru_executions_get",
        "kitaru_executions_latest",
        "get_execution_logs",
        "kitaru_executions_pending_waits",
        "kitaru_artifacts_list",
        "kitaru_artifacts_get",
        "kitaru_status",
        "kitaru_stacks_list",
    }
    assert all(hints[n] == (True, False, True) for n in read)
    assert {n for n, (_, destructive, _) in hints.items() if destructive} == {
        "kitaru_executions_abort_wait",
        "kitaru_executions_cancel",
        "manage_stack",
    }
    assert {n for n, (ro, _, idem) in hints.items() if idem and not ro} == {
        "kitaru_executions_resume",
        "kitaru_executions_cancel",
    }
    assert all(None not in h for h in hints.values())
    resume = tools["kitaru_executions_resume"].description or ""
    assert "Safe to repeat" in resume


async def test_descriptions_only_name_tools_that_exist(mcp_client: Any) -> None:
    """What an assistant reads (the server instructions, tool and parameter descriptions)
    never sends it to a tool that is not there."""
    import re

    from kitaru_mcp.server import INSTRUCTIONS

    tools = (await mcp_client.list_tools()).tools
    names = {t.name for t in tools}
    texts = [INSTRUCTIONS]
    for tool in tools:
        texts.append(tool.description or "")
        texts.extend(p.get("description", "") for p in tool.input_schema["properties"].values())
    mentioned = {m for text in texts for m in re.findall(r"\bkitaru_[a-z_]+\b", text)}
    assert mentioned and mentioned <= names, mentioned - names


async def test_list_tools_answer_one_json_document(
    flows_file: Path, mcp_client: Any, call: Any, poll: Any
) -> None:
    """Every list tool answers {"items": [...], "count": N} as one JSON text block plus the
    same structured content, for an empty list too (the SDK alone would send no content)."""
    import json

    async def raw(tool: str, **arguments: Any) -> dict[str, Any]:
        result = await mcp_client.call_tool(tool, arguments)
        assert not result.is_error
        assert len(result.content) == 1 and result.content[0].type == "text"
        document: dict[str, Any] = json.loads(result.content[0].text)
        assert document == result.structured_content
        return document

    assert await raw("kitaru_executions_list") == {"items": [], "count": 0}
    exec_id = await _start(call, "approval", x=1)
    await poll(exec_id, "waiting")
    listed = await raw("kitaru_executions_list")
    assert listed["count"] == 1 and listed["items"][0]["exec_id"] == exec_id
    assert await raw("kitaru_executions_list", status="failed") == {"items": [], "count": 0}
    waits = await raw("kitaru_executions_pending_waits", exec_id=exec_id)
    assert waits["count"] == 1 and waits["items"][0]["name"] == "extra"
    artifacts = await raw("kitaru_artifacts_list", exec_id=exec_id)
    assert artifacts["count"] == len(artifacts["items"]) >= 1
    assert await raw("kitaru_artifacts_list", exec_id=exec_id, name="nope") == {
        "items": [],
        "count": 0,
    }
    stacks = await raw("kitaru_stacks_list")
    assert stacks["count"] == 1 and stacks["items"][0]["name"] == "default"
    await call("kitaru_executions_cancel", exec_id=exec_id)
    await poll(exec_id, "cancelled")
    assert await raw("kitaru_executions_pending_waits", exec_id=exec_id) == {
        "items": [],
        "count": 0,
    }
    tools = {t.name: t for t in (await mcp_client.list_tools()).tools}
    schema = tools["kitaru_executions_list"].output_schema
    assert schema is not None and set(schema["properties"]) == {"items", "count"}


async def test_results_leave_null_fields_out(
    flows_file: Path, call: Any, poll: Any, isolated: Path
) -> None:
    """docs/mcp.md: fields that are null are left out (an artifact's value aside)."""

    def nulls(value: Any, path: str = "$") -> list[str]:
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in nulls(v, f"{path}.{k}")]
        if isinstance(value, list):
            return [p for i, v in enumerate(value) for p in nulls(v, f"{path}[{i}]")]
        return [path] if value is None else []

    started = await call("kitaru_executions_run", target="flows.py:approval", args={"x": 1})
    # The run result keeps its fixed shape (SPEC): warning is null once the execution is read.
    assert nulls(started) == ["$.warning"] and started["warning"] is None
    exec_id = started["exec_id"]
    waiting = await poll(exec_id, "waiting")
    answered = await call("kitaru_executions_input", exec_id=exec_id, wait="extra", value=2)
    done = await poll(exec_id, "completed")
    replayed = await call("kitaru_executions_replay", exec_id=exec_id, from_="add")
    results = [
        waiting,
        answered,
        done,
        replayed,
        await call("kitaru_executions_latest"),
        await call("kitaru_executions_list"),
        await call("kitaru_artifacts_list", exec_id=exec_id),
        await call("kitaru_status"),
        await call("kitaru_stacks_list"),
    ]
    for result in results:
        assert nulls(result) == [], nulls(result)
    assert "image" not in done["frozen_execution_spec"]["resolved_execution"]


async def test_latest_without_a_match_is_a_kitaru_error_that_says_what_to_do(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    text = await call_error("kitaru_executions_latest")
    assert text.endswith(
        "KitaruStateError: No executions found: the journal has none yet. Start one with "
        "kitaru_executions_run."
    )
    exec_id = await _start(call, "simple", x=1)
    await poll(exec_id, "completed")
    text = await call_error("kitaru_executions_latest", flow="nosuch")
    assert "KitaruStateError: No executions found for flow='nosuch'." in text
    assert "flows with executions: simple." in text
    assert "call kitaru_executions_list to see which executions exist" in text
    text = await call_error("kitaru_executions_latest", flow="simple", status="failed")
    assert "No executions found for flow='simple' and status='failed'." in text
    assert "flows with executions" not in text  # the flow exists: only the status misses
    text = await call_error("kitaru_executions_latest", stack="elsewhere")
    assert "KitaruStateError: No executions found for stack='elsewhere'." in text
    assert await call("kitaru_executions_list", flow="nosuch") == []

    from kitaru.errors import KitaruStateError
    from kitaru_mcp.server import kitaru_executions_latest

    with pytest.raises(KitaruStateError, match="flow='nosuch'") as caught:
        kitaru_executions_latest(flow="nosuch")
    assert isinstance(caught.value, LookupError)  # still a LookupError for plain callers


async def test_run_wait_input_complete(
    flows_file: Path, call: Any, call_error: Any, poll: Any
) -> None:
    started = await call("kitaru_executions_run", target="flows.py:approval", args={"x": 3})
    assert set(started) == {"exec_id", "target", "execution", "warning"}
    assert started["warning"] is None  # it read back
    assert started["target"] == "flows.py:approval"
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
    text = await call_error("kitaru_executions_latest", status="failed")
    assert "KitaruStateError: No executions found for status='failed'." in text

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


async def test_logs_say_when_the_limit_left_lines_out(
    flows_file: Path, call: Any, poll: Any
) -> None:
    exec_id = await _start(call, "fan", x=1)
    await poll(exec_id, "completed")
    first, note = (await call("get_execution_logs", exec_id=exec_id, limit=1)).splitlines()
    assert "doubling" in first
    assert note == "[more lines follow: call again with a limit above 1 to see them]"
    full = await call("get_execution_logs", exec_id=exec_id, limit=2)
    assert len(full.splitlines()) == 2 and "more lines follow" not in full


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


async def test_stacks_manage_is_never_a_silent_no_op(call: Any, call_error: Any) -> None:
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
