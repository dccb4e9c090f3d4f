"""Durability: a gated tool use suspends the execution on a wait named after the tool and the
answer continues the run; a run interrupted mid-way resumes its Claude session on retry; the
session store passes the SDK's conformance helper."""

from __future__ import annotations

import time
from collections.abc import Callable

import kitaru_claude_agent_sdk as kc
import pytest
from claude_agent_sdk import ClaudeAgentOptions, ToolResultBlock, UserMessage
from claude_agent_sdk.testing import run_session_store_conformance
from kitaru import FlowHandle, KitaruClient, flow
from kitaru.runtime import Runtime
from kitaru.testing import MemoryBackend
from kitaru_claude_agent_sdk.testing import ScriptedClaude, Text, ToolUse

SCRIPT = ScriptedClaude(steps=[])


def _reset(*steps: ToolUse | Text) -> ScriptedClaude:
    global SCRIPT
    SCRIPT = ScriptedClaude(steps=list(steps))
    return SCRIPT


def _transport(options: ClaudeAgentOptions) -> object:
    return SCRIPT.transport(options)


GATED = ClaudeAgentOptions(
    hooks={"PreToolUse": [kc.require_approval(["Bash"], question="Run this command?", timeout=0)]}
)


@flow
def guarded(task: str) -> str:
    messages = kc.query_sync(task, options=GATED, transport=_transport, name="ops")
    denied = [
        b.content
        for m in messages
        if isinstance(m, UserMessage) and isinstance(m.content, list)
        for b in m.content
        if isinstance(b, ToolResultBlock) and b.is_error
    ]
    return f"{messages[-1].result} denied={denied}"


@pytest.mark.parametrize(
    ("answer", "ran", "denied"),
    [
        ({"allow": True}, [("Bash", {"command": "rm -rf build"})], "[]"),
        ({"allow": False, "message": "not today"}, [], "['not today']"),
    ],
)
def test_approval_suspends_and_the_answer_continues_the_run(
    memory_runtime: Runtime,
    wait_for_status: Callable[..., None],
    answer: dict[str, object],
    ran: list[object],
    denied: str,
) -> None:
    _reset(
        ToolUse(name="Read", input={"file_path": "Makefile"}),
        ToolUse(name="Bash", input={"command": "rm -rf build"}),
        Text(text="cleaned"),
    )
    handle = guarded.run("clean up")
    wait_for_status(handle.exec_id, "waiting")
    assert SCRIPT.model_calls == 2 and SCRIPT.tool_calls == [("Read", {"file_path": "Makefile"})]
    client = KitaruClient()
    (pending,) = client.executions.pending_waits(handle.exec_id)
    ((_, session_id),) = SCRIPT.sessions
    assert (pending.name, pending.question) == ("Bash", "Run this command?")
    assert pending.metadata == {
        "adapter": "claude_agent_sdk",
        "agent": "ops",
        "tool_name": "Bash",
        "tool_use_id": "toolu_1",
        "tool_input": {"command": "rm -rf build"},
        "session_id": session_id,
    }
    client.executions.input(handle.exec_id, wait="Bash", value=answer)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == f"cleaned denied={denied}"
    # The two model turns before the wait were replayed from the journal, not sent again.
    assert SCRIPT.model_calls == 3
    assert SCRIPT.tool_calls == [("Read", {"file_path": "Makefile"}), *ran]
    assert SCRIPT.sessions == [("new", session_id), ("resume", session_id)]
    (call,) = client.executions.get(handle.exec_id).checkpoints
    (run,) = call.metadata["claude_agent_sdk_runs"].values()
    assert run["approvals"] == [
        {"tool_use_id": "toolu_1", "tool_name": "Bash", "message": None, **answer}
    ]
    assert (run["replayed_messages"], run["segments"]) == (4, 2)


@flow
def coder(task: str) -> str:
    return kc.query_sync(task, transport=_transport, name="coder")[-1].result


def test_crash_then_retry_resumes_the_session(memory_runtime: Runtime) -> None:
    _reset(
        ToolUse(name="Bash", input={"command": "make"}),
        ToolUse(name="Bash", input={"command": "make test"}),
        Text(text="green"),
    )
    SCRIPT.crash_after = 1  # the CLI dies after the first tool use
    handle = coder.run("build and test")
    with pytest.raises(Exception, match="fake Claude CLI died"):
        handle.wait(timeout=30)
    assert SCRIPT.tool_calls == [("Bash", {"command": "make"})]
    client = KitaruClient()
    client.executions.retry(handle.exec_id)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "green"
    ((_, session_id), resumed) = SCRIPT.sessions
    assert resumed == ("resume", session_id)  # the same session, not a new one
    assert SCRIPT.tool_calls == [("Bash", {"command": "make"}), ("Bash", {"command": "make test"})]
    assert SCRIPT.model_calls == 3  # the first tool use was not asked of the model again
    (call,) = client.executions.get(handle.exec_id).checkpoints
    (run,) = call.metadata["claude_agent_sdk_runs"].values()
    assert run["replayed_messages"] == 2
    assert [e["replayed"] for e in run["events"] if e["type"] == "tool_use"] == [True, False]


@pytest.mark.anyio
async def test_session_store_conformance() -> None:
    await run_session_store_conformance(lambda: kc.KitaruSessionStore(backend=MemoryBackend()))


@pytest.mark.anyio
async def test_session_store_dedupes_by_uuid() -> None:
    store = kc.KitaruSessionStore(backend=MemoryBackend())
    key = {"project_key": "p", "session_id": "s"}
    await store.append(key, [{"type": "x", "uuid": "a"}, {"type": "x"}])
    await store.append(key, [{"type": "x", "uuid": "a"}, {"type": "x", "uuid": "b"}])
    assert await store.load(key) == [
        {"type": "x", "uuid": "a"},
        {"type": "x"},
        {"type": "x", "uuid": "b"},
    ]


LISTENING = ClaudeAgentOptions(hooks={"PreToolUse": [kc.require_approval(["Bash"], timeout=30)]})


@flow
def listening() -> str:
    return kc.query_sync("go", options=LISTENING, transport=_transport, name="ops")[-1].result


def test_an_answer_within_the_listening_window_continues_in_process(
    memory_runtime: Runtime, wait_for_status: Callable[..., None]
) -> None:
    _reset(ToolUse(name="Bash", input={"command": "ls"}), Text(text="listed"))
    handle = listening.run()
    client = KitaruClient()
    deadline = time.monotonic() + 20
    while not client.executions.pending_waits(handle.exec_id):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    client.executions.input(handle.exec_id, wait="Bash", value={"allow": True})
    assert handle.wait(timeout=30) == "listed"
    assert SCRIPT.tool_calls == [("Bash", {"command": "ls"})]
    assert SCRIPT.model_calls == 2
    assert [mode for mode, _ in SCRIPT.sessions] == ["new", "resume"]


@pytest.mark.anyio
async def test_can_use_tool_backs_up_an_ignored_defer() -> None:
    from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny, ToolPermissionContext
    from kitaru_claude_agent_sdk._approval import (
        ApprovalDecision,
        ApprovalRun,
        active_run,
        guard_can_use_tool,
    )

    gate = kc.require_approval(["Bash"])
    check = guard_can_use_tool(ClaudeAgentOptions(), [gate])
    run = ApprovalRun(
        decisions={
            "t1": ApprovalDecision(allow=True),
            "t2": ApprovalDecision(allow=False, message="no"),
        }
    )
    token = active_run().set(run)
    try:
        answers = [
            await check("Bash", {}, ToolPermissionContext(tool_use_id=t))
            for t in ("t1", "t2", "t3")
        ]
        other = await check("Read", {}, ToolPermissionContext(tool_use_id="t4"))
    finally:
        active_run().reset(token)
    assert isinstance(answers[0], PermissionResultAllow)
    assert isinstance(answers[1], PermissionResultDeny) and answers[1].message == "no"
    assert isinstance(answers[2], PermissionResultDeny)
    assert "on its own" in answers[2].message
    assert isinstance(other, PermissionResultAllow)
