"""An agent run killed mid-way, run as a script by the crash tests.

The agent makes three model requests (1 calls ``add``, 2 calls ``finish_up``, 3 answers).
Every model request and tool body appends a line to a file in ``<folder>`` (side effects that
count real calls across processes). With ``KILL_AT=tool`` the process SIGKILLs itself as
``finish_up`` starts; with ``KILL_AT=model3`` inside model request 3, after its side effect.
A retry worker (``KITARU_WORKER`` set) never kills itself.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import kitaru_pydantic_ai as kp
from kitaru import flow
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

FOLDER: list[Path] = []


def _effect(name: str, line: str) -> None:
    with (FOLDER[0] / name).open("a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def _kill_if(point: str) -> None:
    if os.environ.get("KILL_AT") == point and os.environ.get("KITARU_WORKER") is None:
        os.kill(os.getpid(), signal.SIGKILL)


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    n = sum(1 for m in messages if m.kind == "response") + 1
    _effect("model", str(n))
    if n == 1:
        return ModelResponse(parts=[ToolCallPart("add", {"a": 2, "b": 3})])
    if n == 2:
        return ModelResponse(parts=[ToolCallPart("finish_up", {"total": 5})])
    _kill_if("model3")
    return ModelResponse(parts=[TextPart(f"total {messages[-1].parts[0].content}")])


# PAI_ATTACHED=1: the agent is built with its durability capability (the construction-time
# attachment kp.wrap then uses instead of giving one per run).
attached = [kp.KitaruDurability()] if os.environ.get("PAI_ATTACHED") else []
agent = Agent(FunctionModel(model), name="crashy", capabilities=attached)


@agent.tool_plain
def add(a: int, b: int) -> int:
    _effect("add", f"{a}+{b}")
    return a + b


@agent.tool_plain
def finish_up(total: int) -> str:
    _kill_if("tool")
    _effect("finish_up", str(total))
    return f"{total} done"


crashy = kp.wrap(agent)


@flow
def crash_flow(folder: str) -> str:
    FOLDER[:] = [Path(folder)]
    return crashy.run_sync("add 2 and 3").output


if __name__ == "__main__":
    handle = crash_flow.run(sys.argv[1])
    Path(sys.argv[1], "exec_id").write_text(handle.exec_id)
    print(handle.wait(timeout=60))
