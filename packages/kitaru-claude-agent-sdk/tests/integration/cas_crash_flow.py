"""An agent run SIGKILLed mid-way, run as a script by the crash test.

The scripted agent runs ``make`` then ``make test`` then answers. Every tool body and every
CLI connection appends a line to a file in ``<folder>`` (side effects that count real calls
across processes). A ``PreToolUse`` hook SIGKILLs the process as ``make test`` is about to
run (after a pause that lets the journal and the session store catch up), unless it is the
retry worker (``KITARU_WORKER`` set).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import kitaru_claude_agent_sdk as kc
from claude_agent_sdk import ClaudeAgentOptions, HookMatcher
from kitaru import flow
from kitaru_claude_agent_sdk.testing import ScriptedClaude, Text, ToolUse

FOLDER: list[Path] = []


def _effect(name: str, line: str) -> None:
    with (FOLDER[0] / name).open("a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


async def _kill_before_tests(hook_input: Any, tool_use_id: Any, context: Any) -> Any:
    command = hook_input["tool_input"]["command"]
    if command == "make test" and os.environ.get("KITARU_WORKER") is None:
        await asyncio.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)
    return {}


def _run(tool_input: dict[str, Any]) -> str:
    _effect("tools", tool_input["command"])
    return "ok"


claude = ScriptedClaude(
    steps=[
        ToolUse(name="Bash", input={"command": "make"}),
        ToolUse(name="Bash", input={"command": "make test"}),
        Text(text="all green"),
    ],
    tools={"Bash": _run},
)


def transport(options: ClaudeAgentOptions) -> Any:
    _effect("sessions", "resume" if options.resume else "new")
    return claude.transport(options)


@flow
def crash_flow(folder: str) -> str:
    FOLDER[:] = [Path(folder)]
    options = ClaudeAgentOptions(
        hooks={"PreToolUse": [HookMatcher(matcher="Bash", hooks=[_kill_before_tests])]}
    )
    return kc.query_sync("build and test", options=options, transport=transport, name="ci")[
        -1
    ].result


if __name__ == "__main__":
    handle = crash_flow.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=60))
