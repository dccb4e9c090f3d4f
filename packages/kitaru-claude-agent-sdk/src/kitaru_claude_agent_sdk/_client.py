"""``kc.ClaudeSDKClient``: the SDK's conversation client, durable inside a flow.

Outside a flow it *is* the SDK client (every call is forwarded). Inside a flow no connection
is held between turns: each ``query(prompt)`` is one durable agent run (a checkpoint
``<name>_agent_run_<n>`` in the flow body, child events inside a checkpoint), the first on a
new session and each next one resuming that session (``resume=<session_id>``), and
``receive_response()`` / ``receive_messages()`` yield that turn's messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions, ResultMessage
from claude_agent_sdk import ClaudeSDKClient as SDKClient
from kitaru.durable import in_flow
from kitaru.errors import KitaruUsageError

from kitaru_claude_agent_sdk._checks import check_entry_args
from kitaru_claude_agent_sdk._run import RESUME_PROMPT, TransportArg, _start, _transport

__all__ = ["ClaudeSDKClient"]


class ClaudeSDKClient:
    """Like ``claude_agent_sdk.ClaudeSDKClient(options, transport)``; durable in a flow.

    Args:
        options: ``ClaudeAgentOptions``.
        transport: a ``Transport`` or a factory ``options -> Transport``; inside a flow each
            turn needs a fresh transport, so pass a factory for more than one turn.
        name: the agent's name in checkpoint and event ids (default ``claude``; a name with
            no letter, digit or ``_`` is refused).
        resume_prompt: the user message sent when an interrupted turn resumes its session.

    Raises:
        KitaruUsageError: at construction, for an argument of the wrong type.
    """

    def __init__(
        self,
        options: ClaudeAgentOptions | None = None,
        transport: TransportArg = None,
        *,
        name: str | None = None,
        resume_prompt: str = RESUME_PROMPT,
    ) -> None:
        self.name = check_entry_args(
            options=options,
            transport=transport,
            name=name,
            resume_prompt=resume_prompt,
            what="kc.ClaudeSDKClient",
        )
        self.options = options or ClaudeAgentOptions()
        self._transport = transport
        self._resume_prompt = resume_prompt
        self._inner: SDKClient | None = None
        self._durable = False
        self._turns = 0
        self.session_id: str | None = self.options.resume
        self._pending: list[Any] = []

    async def connect(self, prompt: Any = None) -> None:
        """Outside a flow: connect the SDK client. Inside a flow: nothing to hold open."""
        self._durable = in_flow()
        if self._durable:
            if prompt is not None:
                await self.query(prompt)
            return
        self._inner = SDKClient(self.options, _transport(self._transport, self.options, 0))
        await self._inner.connect(prompt)

    async def __aenter__(self) -> ClaudeSDKClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        if self._inner is not None:
            await self._inner.disconnect()
            self._inner = None

    async def query(self, prompt: Any, session_id: str = "default") -> None:
        """Send a prompt; in a flow, run the turn durably and keep its messages."""
        if not self._durable:
            if self._inner is None:
                raise KitaruUsageError("Connect the client first (async with ...).")
            await self._inner.query(prompt, session_id)
            return
        options = self.options
        if self.session_id is not None:
            options = dataclasses.replace(options, resume=self.session_id)
        transport = self._transport
        if self._turns > 0 and transport is not None and not callable(transport):
            raise KitaruUsageError("Each turn in a flow needs a new transport: pass a factory.")
        run = _start(
            "kc.ClaudeSDKClient.query", prompt, options, transport, self.name, self._resume_prompt
        )
        self._turns += 1
        self._pending = [m async for m in run]
        for m in reversed(self._pending):
            if isinstance(m, ResultMessage):
                self.session_id = m.session_id
                break

    async def receive_response(self) -> AsyncIterator[Any]:
        """Messages up to and including the turn's ``ResultMessage``."""
        if not self._durable:
            assert self._inner is not None
            async for m in self._inner.receive_response():
                yield m
            return
        pending, self._pending = self._pending, []
        for m in pending:
            yield m

    async def receive_messages(self) -> AsyncIterator[Any]:
        """Outside a flow: every message. Inside a flow: the last turn's messages."""
        if not self._durable:
            assert self._inner is not None
            async for m in self._inner.receive_messages():
                yield m
            return
        async for m in self.receive_response():
            yield m

    def __getattr__(self, attr: str) -> Any:
        # interrupt(), set_model(), get_mcp_status(), ...: the SDK client's, outside a flow
        inner = self.__dict__.get("_inner")
        if inner is None:
            raise AttributeError(
                f"ClaudeSDKClient.{attr} is only available on a connected client outside a flow."
                if not attr.startswith("_")
                else attr
            )
        return getattr(inner, attr)
