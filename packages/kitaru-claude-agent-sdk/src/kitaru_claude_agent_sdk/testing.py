"""An offline stand-in for the Claude CLI, for tests, examples and docs (no binary, no key).

:class:`ScriptedClaude` scripts an agent: tool uses, then a final text. Its
:meth:`~ScriptedClaude.transport` is a transport *factory* (``options -> Transport``) for
``kc.query(..., transport=script.transport)``. Each transport plays the CLI's side of the
SDK's stream-json control protocol: it answers ``initialize``, fires the ``PreToolUse`` hook
callbacks (honouring ``allow`` / ``deny`` / ``defer``), "runs" tools, emits ``assistant``,
``user`` and ``result`` frames, and mirrors its transcript through ``transcript_mirror``
frames, so the ``SessionStore`` holds the session. ``resume=<session_id>`` continues from the
stored transcript; a deferred tool use is asked about again on resume, like the real CLI.

``claude_agent_sdk.Transport`` is marked internal by the SDK: expect to update this module
when the SDK changes its control protocol.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from claude_agent_sdk import ClaudeAgentOptions, Transport

__all__ = ["FakeClaudeCLI", "ScriptedClaude", "Text", "ToolUse"]

PROJECT_KEY = "kitaru-fake"


@dataclass(frozen=True, kw_only=True)
class ToolUse:
    """The model asks for ``name`` with ``input``."""

    name: str
    input: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Text:
    """The model's final answer (ends the run)."""

    text: str


@dataclass
class ScriptedClaude:
    """A scripted agent shared by every transport it makes.

    Args:
        steps: ``ToolUse`` steps, then one ``Text``.
        tools: tool name -> function of the input returning the tool's text (default:
            ``"<name> ok"``).
        cost_usd: ``total_cost_usd`` reported per result.
    """

    steps: list[ToolUse | Text]
    tools: dict[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)
    cost_usd: float = 0.01
    crash_after: int | None = None
    """Make the next transport fail (as if the CLI died) after this many steps are done."""
    model_calls: int = 0
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sessions: list[tuple[str, str]] = field(default_factory=list)
    """``("new" | "resume", session_id)`` per transport, in order."""
    hook_decisions: list[str] = field(default_factory=list)

    def transport(self, options: ClaudeAgentOptions) -> FakeClaudeCLI:
        """A transport factory: ``kc.query(..., transport=script.transport)``."""
        crash, self.crash_after = self.crash_after, None
        return FakeClaudeCLI(self, options, crash_after=crash)


def _projects_dir(options: ClaudeAgentOptions) -> Path:
    config = (options.env or {}).get("CLAUDE_CONFIG_DIR") or os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(config or Path.home() / ".claude") / "projects"


class FakeClaudeCLI(Transport):
    """One "CLI process" of a :class:`ScriptedClaude` (see the module docstring)."""

    def __init__(
        self, script: ScriptedClaude, options: ClaudeAgentOptions, *, crash_after: int | None = None
    ) -> None:
        self.script = script
        self.options = options
        self.crash_after = crash_after
        self.session_id = options.resume or options.session_id or str(uuid.uuid4())
        self.resumed = options.resume is not None
        self._send, self._recv = anyio.create_memory_object_stream[dict[str, Any]](1000)
        self._pending: dict[str, list[Any]] = {}
        self._hooks: list[str] = []
        self._n = 0
        self._ready = False
        self._task: asyncio.Task[None] | None = None
        self._busy = False

    # -- Transport -------------------------------------------------------------------------

    async def connect(self) -> None:
        self._ready = True
        self.script.sessions.append(("resume" if self.resumed else "new", self.session_id))

    def is_ready(self) -> bool:
        return self._ready

    async def end_input(self) -> None:
        if not self._busy:
            await self._send.aclose()

    async def close(self) -> None:
        self._ready = False
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self._send.aclose()
        self._recv.close()

    async def read_messages(self) -> Any:
        async for message in self._recv:
            if message.get("type") == "_crash":
                raise ConnectionError("fake Claude CLI died")
            yield message

    async def write(self, data: str) -> None:
        message = json.loads(data)
        kind = message.get("type")
        if kind == "control_request" and message["request"]["subtype"] == "initialize":
            for matchers in (message["request"].get("hooks") or {}).get("PreToolUse", []):
                self._hooks.extend(matchers["hookCallbackIds"])
            await self._send.send(
                {
                    "type": "control_response",
                    "response": {
                        "subtype": "success",
                        "request_id": message["request_id"],
                        "response": {"commands": []},
                    },
                }
            )
        elif kind == "control_response":
            response = message["response"]
            slot = self._pending[response["request_id"]]
            slot[1] = response
            slot[0].set()
        elif kind == "user":
            self._busy = True
            self._task = asyncio.get_running_loop().create_task(self._turn())

    # -- the scripted CLI ------------------------------------------------------------------

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        request_id = f"fake_{self._n}"
        slot: list[Any] = [anyio.Event(), None]
        self._pending[request_id] = slot
        await self._send.send(
            {"type": "control_request", "request_id": request_id, "request": request}
        )
        await slot[0].wait()
        return self._pending.pop(request_id)[1]  # type: ignore[no-any-return]

    async def _mirror(self, entry: dict[str, Any]) -> None:
        path = _projects_dir(self.options) / PROJECT_KEY / f"{self.session_id}.jsonl"
        await self._send.send(
            {
                "type": "transcript_mirror",
                "filePath": str(path),
                "entries": [{"uuid": str(uuid.uuid4()), "sessionId": self.session_id, **entry}],
            }
        )

    async def _transcript(self) -> list[dict[str, Any]]:
        store = self.options.session_store
        if not self.resumed or store is None:
            return []
        key = {"project_key": PROJECT_KEY, "session_id": self.session_id}
        return list(await store.load(key) or [])  # type: ignore[arg-type]

    async def _hook(self, step: int, tool: ToolUse) -> str:
        decision = "none"
        for callback_id in self._hooks:
            reply = await self._ask(
                {
                    "subtype": "hook_callback",
                    "callback_id": callback_id,
                    "tool_use_id": f"toolu_{step}",
                    "input": {
                        "hook_event_name": "PreToolUse",
                        "tool_name": tool.name,
                        "tool_input": tool.input,
                        "tool_use_id": f"toolu_{step}",
                        "session_id": self.session_id,
                        "transcript_path": "",
                        "cwd": "/",
                    },
                }
            )
            out = (reply.get("response") or {}).get("hookSpecificOutput") or {}
            value = out.get("permissionDecision")
            if value in ("deny", "defer"):
                return f"{value}:{out.get('permissionDecisionReason', '')}"
            if value == "allow":
                decision = "allow"
        return decision

    async def _emit(self, frame: dict[str, Any]) -> None:
        await self._send.send({**frame, "session_id": self.session_id})

    async def _turn(self) -> None:
        try:
            await self._run_steps()
        finally:
            self._busy = False
            await self._send.aclose()

    async def _run_steps(self) -> None:
        entries = await self._transcript()
        ends = [i for i, e in enumerate(entries) if e.get("type") == "x-turn-end"]
        entries = entries[ends[-1] + 1 :] if ends else entries  # a new turn after a finished one
        done = sum(1 for e in entries if e.get("type") == "x-step-done")
        deferred = bool(entries) and entries[-1].get("type") == "x-deferred"
        steps = self.script.steps
        for step in range(done, len(steps)):
            if self.crash_after is not None and step >= self.crash_after:
                await self._send.send({"type": "_crash"})
                return
            item = steps[step]
            if isinstance(item, Text):
                self.script.model_calls += 1
                await self._emit(
                    {
                        "type": "assistant",
                        "message": {
                            "model": "fake-claude",
                            "role": "assistant",
                            "content": [{"type": "text", "text": item.text}],
                        },
                    }
                )
                await self._mirror({"type": "x-step-done", "step": step})
                await self._mirror({"type": "x-turn-end"})
                await self._emit(
                    {
                        "type": "result",
                        "subtype": "success",
                        "duration_ms": 1,
                        "duration_api_ms": 1,
                        "is_error": False,
                        "num_turns": step + 1,
                        "result": item.text,
                        "total_cost_usd": self.script.cost_usd,
                        "usage": {"input_tokens": 10 * (step + 1), "output_tokens": 5},
                    }
                )
                return
            tool_use_id = f"toolu_{step}"
            if not (deferred and step == done):  # asked before the deferral: not again
                self.script.model_calls += 1
                await self._emit(
                    {
                        "type": "assistant",
                        "message": {
                            "model": "fake-claude",
                            "role": "assistant",
                            "content": [
                                {
                                    "type": "tool_use",
                                    "id": tool_use_id,
                                    "name": item.name,
                                    "input": item.input,
                                }
                            ],
                        },
                    }
                )
            decision = await self._hook(step, item)
            self.script.hook_decisions.append(f"{item.name}:{decision}")
            if decision.startswith("defer"):
                await self._mirror({"type": "x-deferred", "step": step})
                await self._emit(
                    {
                        "type": "result",
                        "subtype": "success",
                        "duration_ms": 1,
                        "duration_api_ms": 1,
                        "is_error": False,
                        "num_turns": step + 1,
                        "stop_reason": "tool_deferred",
                        "result": "",
                        "total_cost_usd": self.script.cost_usd,
                        "usage": {"input_tokens": 10 * (step + 1), "output_tokens": 5},
                        "deferred_tool_use": {
                            "id": tool_use_id,
                            "name": item.name,
                            "input": item.input,
                        },
                    }
                )
                return
            if decision.startswith("deny"):
                content, is_error = decision.split(":", 1)[1] or "denied", True
            else:
                self.script.tool_calls.append((item.name, dict(item.input)))
                run = self.script.tools.get(item.name)
                content, is_error = (run(item.input) if run else f"{item.name} ok"), False
            await self._emit(
                {
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_use_id,
                                "content": content,
                                "is_error": is_error,
                            }
                        ],
                    },
                }
            )
            await self._mirror({"type": "x-step-done", "step": step})
