"""A Claude Agent SDK ops agent made durable with Kitaru (offline: a scripted fake CLI).

Run it with ``python examples/claude_agent.py``. The agent reads a Makefile, then wants to run
``make clean``; ``kc.require_approval(["Bash"])`` turns that tool use into a Kitaru wait. The
execution suspends (this process holds no runner), the approval is given from a *second
process*, and a worker process continues the agent run: the messages from before the wait are
replayed from the journal and the Claude session is resumed from the transcript that Kitaru's
``SessionStore`` kept, so the model is not asked again. The script prints what happened.

``ScriptedClaude`` stands in for the ``claude`` CLI and a model. With a real CLI and an
``ANTHROPIC_API_KEY``, drop ``transport=`` and the same flow runs against Claude.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from claude_agent_sdk import ClaudeAgentOptions
from kitaru import FlowHandle, KitaruClient, flow
from kitaru.adapters import claude_agent_sdk as kc
from kitaru_claude_agent_sdk.testing import ScriptedClaude, Text, ToolUse

fake_claude = ScriptedClaude(
    steps=[
        ToolUse(name="Read", input={"file_path": "Makefile"}),
        ToolUse(name="Bash", input={"command": "make clean"}),
        Text(text="The build directory is clean."),
    ],
    tools={"Read": lambda i: "clean:\n\trm -rf build", "Bash": lambda i: "rm -rf build"},
)

options = ClaudeAgentOptions(
    allowed_tools=["Read"],
    hooks={
        "PreToolUse": [kc.require_approval(["Bash"], question="Run this command?", timeout=0)]
    },  # timeout=0: suspend at once
)


@flow
def tidy_up(task: str) -> str:
    messages = kc.query_sync(
        task, options=options, transport=fake_claude.transport, name="ops"
    )  # checkpoint ops_agent_run_1
    return messages[-1].result


def _approve_from_another_process(exec_id: str) -> None:
    code = (
        "import sys; from kitaru import KitaruClient; "
        "KitaruClient().executions.input(sys.argv[1], wait='Bash', value={'allow': True})"
    )
    subprocess.run([sys.executable, "-c", code, exec_id], check=True)


def main() -> None:
    os.environ.setdefault("KITARU_NO_PROMPT", "1")  # answer from a second process, not here
    handle = tidy_up.run("Clean the build directory.")
    print(f"started execution {handle.exec_id}")
    client = KitaruClient()
    while client.executions.get(handle.exec_id).status.value != "waiting":
        time.sleep(0.05)
    (pending,) = client.executions.pending_waits(handle.exec_id)
    print(
        f"waiting on '{pending.name}': {pending.question} "
        f"{json.dumps(pending.metadata['tool_input'])}"
    )
    print(f"model turns in this process: {fake_claude.model_calls}")
    print("approving from a second process ...")
    _approve_from_another_process(handle.exec_id)
    result = FlowHandle(handle.exec_id).wait(timeout=120)
    print(f"result: {result!r}")

    (call,) = client.executions.get(handle.exec_id).checkpoints
    (run,) = call.metadata["claude_agent_sdk_runs"].values()
    print(
        f"checkpoint {call.invocation_id} ({call.checkpoint_type}), session "
        f"{run['session_id']}, cost ${call.metadata['total_cost_usd']}:"
    )
    for event in run["events"]:
        what = event.get("tool_name") or event.get("text") or event.get("tool_use_id")
        how = "replayed from the journal" if event["replayed"] else "ran in the worker"
        print(f"  {event['type']:12} {what:32} {how}")
    print(
        json.dumps(
            {
                "exec_id": handle.exec_id,
                "approvals": run["approvals"],
                "replayed": [e["replayed"] for e in run["events"]],
            }
        )
    )


if __name__ == "__main__":
    main()
