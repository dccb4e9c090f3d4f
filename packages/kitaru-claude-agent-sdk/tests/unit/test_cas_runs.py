"""Agent runs in flows: a run with two tool uses is one ``llm_call`` checkpoint whose messages
are journaled and tracked; a completed run is not sent again on a replay after it; a replay
from the agent-run checkpoint runs it again on a new session; outside a flow the SDK runs
untouched; the plugin is listed and loads lazily."""

from __future__ import annotations

import subprocess
import sys

import kitaru_claude_agent_sdk as kc
import pytest
from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ResultMessage,
    ToolUseBlock,
    UserMessage,
)
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru.errors import KitaruUsageError
from kitaru.plugins import list_plugins
from kitaru.runtime import Runtime
from kitaru_claude_agent_sdk.testing import PROJECT_KEY, ScriptedClaude, Text, ToolUse

SCRIPT = ScriptedClaude(steps=[])


def _reset(*steps: ToolUse | Text) -> ScriptedClaude:
    global SCRIPT
    SCRIPT = ScriptedClaude(steps=list(steps), tools={"Bash": lambda i: f"ran {i['command']}"})
    return SCRIPT


def _transport(options: ClaudeAgentOptions) -> object:
    return SCRIPT.transport(options)


@checkpoint
def publish(text: str) -> str:
    return f"PUBLISHED: {text}"


@flow
def coder(task: str) -> str:
    messages = kc.query_sync(task, transport=_transport, name="coder")
    return publish(messages[-1].result)


def test_run_with_two_tool_uses_is_one_tracked_checkpoint(memory_runtime: Runtime) -> None:
    _reset(
        ToolUse(name="Bash", input={"command": "ls"}),
        ToolUse(name="Read", input={"file_path": "a.py"}),
        Text(text="two files"),
    )
    handle = coder.run("list files")
    assert handle.wait(timeout=30) == "PUBLISHED: two files"
    assert SCRIPT.tool_calls == [("Bash", {"command": "ls"}), ("Read", {"file_path": "a.py"})]
    ((mode, session_id),) = SCRIPT.sessions
    assert mode == "new"
    execution = KitaruClient().executions.get(handle.exec_id)
    call = next(c for c in execution.checkpoints if c.invocation_id == "coder_agent_run_1")
    assert call.checkpoint_type == "llm_call"
    (run,) = call.metadata["claude_agent_sdk_runs"].values()
    assert (run["session_id"], run["status"], run["tool_use_count"]) == (session_id, "completed", 2)
    assert [(e["type"], e.get("tool_name")) for e in run["events"]] == [
        ("tool_use", "Bash"),
        ("tool_result", None),
        ("tool_use", "Read"),
        ("tool_result", None),
        ("text", None),
    ]
    assert call.metadata["total_cost_usd"] == 0.01
    assert call.metadata["usage"] == {"input_tokens": 30, "output_tokens": 5}
    names = {a.name for a in execution.artifacts}
    assert set(run["artifacts"]) <= names
    # The transcript is in Kitaru's journal through the SessionStore.
    store = kc.KitaruSessionStore()
    import anyio

    entries = anyio.run(store.load, {"project_key": PROJECT_KEY, "session_id": session_id})
    assert [e["type"] for e in entries] == ["x-step-done"] * 3 + ["x-turn-end"]


def test_replay_reuses_or_reruns_the_agent_run(memory_runtime: Runtime) -> None:
    _reset(ToolUse(name="Bash", input={"command": "ls"}), Text(text="done"))
    source = coder.run("go")
    assert source.wait(timeout=30) == "PUBLISHED: done"
    assert SCRIPT.model_calls == 2
    client = KitaruClient()
    # After the agent run: its recorded messages are reused, the model is not contacted.
    later = client.executions.replay(source.exec_id, from_="publish")
    assert FlowHandle(later.exec_id).wait(timeout=30) == "PUBLISHED: done"
    assert SCRIPT.model_calls == 2 and len(SCRIPT.sessions) == 1
    # From the agent-run checkpoint: it runs again, on a new session.
    again = client.executions.replay(source.exec_id, from_="coder_agent_run_1")
    assert FlowHandle(again.exec_id).wait(timeout=30) == "PUBLISHED: done"
    assert SCRIPT.model_calls == 4
    assert [m for m, _ in SCRIPT.sessions] == ["new", "new"]
    assert SCRIPT.sessions[0][1] != SCRIPT.sessions[1][1]


@flow
def two_runs_in_a_checkpoint_flow() -> list[str]:
    return two_runs()


@checkpoint
def two_runs() -> list[str]:
    out = []
    for task in ("a", "b"):
        messages = kc.query_sync(task, transport=_transport, name="helper")
        out.append(messages[-1].result)
    return out


def test_runs_inside_a_checkpoint_are_child_events(memory_runtime: Runtime) -> None:
    _reset(Text(text="ok"))
    handle = two_runs_in_a_checkpoint_flow.run()
    assert handle.wait(timeout=30) == ["ok", "ok"]
    (call,) = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert call.invocation_id == "two_runs"
    assert len(call.metadata["claude_agent_sdk_runs"]) == 2


@flow
def conversation() -> list[str]:
    async def talk() -> list[str]:
        async with kc.ClaudeSDKClient(transport=_transport, name="chat") as client:
            out = []
            for prompt in ("first", "second"):
                await client.query(prompt)
                out += [
                    m.session_id
                    async for m in client.receive_response()
                    if isinstance(m, ResultMessage)
                ]
            return out

    import asyncio

    return asyncio.run(talk())


def test_client_turns_resume_one_session(memory_runtime: Runtime) -> None:
    _reset(Text(text="hello"))
    handle = conversation.run()
    first, second = handle.wait(timeout=30)
    assert first == second
    assert SCRIPT.sessions == [("new", first), ("resume", first)]
    calls = KitaruClient().executions.get(handle.exec_id).checkpoints
    assert [c.invocation_id for c in calls] == ["chat_agent_run_1", "chat_agent_run_2"]


@pytest.mark.anyio
async def test_outside_a_flow_the_sdk_runs_untouched() -> None:
    _reset(ToolUse(name="Bash", input={"command": "ls"}), Text(text="done"))
    # require_approval does nothing outside a flow: the usual permission flow applies.
    options = ClaudeAgentOptions(hooks={"PreToolUse": [kc.require_approval(["Bash"])]})
    messages = [m async for m in kc.query("go", options=options, transport=_transport)]
    assert [type(m) for m in messages] == [
        AssistantMessage,
        UserMessage,
        AssistantMessage,
        ResultMessage,
    ]
    assert isinstance(messages[0].content[0], ToolUseBlock)
    assert SCRIPT.tool_calls == [("Bash", {"command": "ls"})]
    assert SCRIPT.hook_decisions == ["Bash:none"]
    async with kc.ClaudeSDKClient(options, _transport) as client:
        await client.query("again")
        assert [type(m) async for m in client.receive_response()][-1] is ResultMessage


def test_missing_cli_or_credentials_name_what_to_set(tmp_path: object) -> None:
    # Usage errors (fix the setup, then retry), raised when kc.query is called.
    with pytest.raises(KitaruUsageError, match="cli_path"):
        kc.query_sync("x", options=ClaudeAgentOptions(cli_path="/nonexistent/claude"))
    with pytest.raises(KitaruUsageError, match="cli_path"):
        kc.query("x", options=ClaudeAgentOptions(cli_path="/nonexistent/claude"))
    with pytest.raises(KitaruUsageError, match="ANTHROPIC_API_KEY"):
        kc.query_sync("x")


def test_plugin_is_listed_and_loads_lazily() -> None:
    (info,) = [p for p in list_plugins() if p.name == "claude_agent_sdk"]
    assert info.distribution == "kitaru-claude-agent-sdk"
    from kitaru.adapters import claude_agent_sdk

    assert claude_agent_sdk is kc
    code = (
        "import sys, kitaru_claude_agent_sdk, kitaru_claude_agent_sdk.plugin; "
        "assert 'claude_agent_sdk' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
