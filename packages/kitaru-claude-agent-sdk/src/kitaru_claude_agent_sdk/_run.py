"""Durable agent runs: ``kc.query`` / ``kc.query_sync``.

* Outside a flow: the SDK's ``query()``, untouched (plus a clear error when the CLI or
  credentials are missing).
* Inside a checkpoint: the run is journaled as child events of that checkpoint. Its session
  id is fixed first (``claude_agent_sdk:<name>.session``), then every message is committed as
  it arrives (``claude_agent_sdk:<name>.message``). When the checkpoint runs again (after a
  crash, or after a wait suspended it) the recorded messages are replayed without contacting
  the model, and the Claude session is *resumed* (``resume=<session_id>``; its transcript is
  in Kitaru's journal through :class:`~kitaru_claude_agent_sdk.KitaruSessionStore`) instead of
  starting over.
* In the flow body: the run is the synthetic checkpoint ``<name>_agent_run_<n>`` (type
  ``llm_call``, waits allowed); a completed run returns its recorded messages on a restart.

A tool use gated by :func:`~kitaru_claude_agent_sdk.require_approval` is deferred by the CLI;
the run then waits in Kitaru (``kitaru.wait``) and resumes the session with the decision.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import kitaru
from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ResultMessage,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Transport,
    UserMessage,
)
from claude_agent_sdk import query as sdk_query
from kitaru.durable import (
    ajournaled,
    in_checkpoint,
    in_flow,
    next_run_number,
    recorded_count,
    run_as_checkpoint,
    used_invocation_ids,
)
from kitaru.errors import KitaruRuntimeError, KitaruUsageError

from kitaru_claude_agent_sdk._approval import (
    ApprovalDecision,
    ApprovalMatcher,
    ApprovalRun,
    active_run,
    approval_matchers,
    guard_can_use_tool,
)
from kitaru_claude_agent_sdk._checks import check_entry_args, check_prompt
from kitaru_claude_agent_sdk._codec import decode, decode_all, encode, encode_all
from kitaru_claude_agent_sdk._env import check_cli_and_credentials
from kitaru_claude_agent_sdk._store import KitaruSessionStore

__all__ = [
    "RESUME_PROMPT",
    "TransportArg",
    "drive",
    "plain_query",
    "query",
    "query_sync",
]

TransportArg = Transport | Callable[[ClaudeAgentOptions], Transport] | None
RESUME_PROMPT = "Continue from where you left off."


def _transport(transport: TransportArg, options: ClaudeAgentOptions, segment: int) -> Any:
    if transport is None:
        check_cli_and_credentials(options)
        return None
    if isinstance(transport, Transport):
        if segment > 0:
            raise KitaruUsageError(
                "This agent run resumes its Claude session (after an approval), which needs a "
                "new transport: pass a factory, transport=lambda options: MyTransport(...)."
            )
        return transport
    if callable(transport):
        return transport(options)
    raise KitaruUsageError(f"transport must be a Transport or a factory, got {transport!r}.")


async def plain_query(
    prompt: Any, options: ClaudeAgentOptions | None, transport: TransportArg
) -> AsyncIterator[Any]:
    """The SDK's ``query()`` (what runs outside a flow)."""
    options = options or ClaudeAgentOptions()
    async for message in sdk_query(
        prompt=prompt, options=options, transport=_transport(transport, options, 0)
    ):
        yield message


# -- journal helpers -------------------------------------------------------------------------


def _recorded_count(key: str) -> int:
    """How many ``key`` events this checkpoint call has recorded."""
    return recorded_count(key)


async def _not_recorded() -> Any:
    raise KitaruRuntimeError("A journaled Claude message disappeared during replay.")


def _value(value: Any) -> Callable[[], Any]:
    async def get() -> Any:
        return value

    return get


# -- approvals -------------------------------------------------------------------------------


async def _ask(
    matchers: list[ApprovalMatcher], deferred: Any, session_id: str, name: str
) -> ApprovalDecision:
    matcher = next((m for m in matchers if m.gates(deferred.name)), None)
    if matcher is None:
        raise KitaruUsageError(
            f"The Claude run deferred tool {deferred.name!r}, but no kc.require_approval() in "
            "options.hooks['PreToolUse'] gates it; only require_approval hooks may defer "
            "inside a Kitaru flow."
        )
    kwargs: dict[str, Any] = {}
    if matcher.wait_timeout is not None:
        kwargs["timeout"] = matcher.wait_timeout
    metadata = {
        "adapter": "claude_agent_sdk",
        "agent": name,
        "tool_name": deferred.name,
        "tool_use_id": deferred.id,
        "tool_input": encode(deferred.input),
        "session_id": session_id,
    }
    # wait() listens by polling: keep it off the event loop. An unanswered wait raises
    # Kitaru's suspend signal (a BaseException), which ends this run; it is left to propagate.
    value = await asyncio.to_thread(
        kitaru.wait,
        name=deferred.name,
        schema=ApprovalDecision,
        question=matcher.question or f"Allow Claude to use {deferred.name}?",
        metadata=metadata,
        **kwargs,
    )
    return value  # type: ignore[no-any-return]


# -- the durable run -------------------------------------------------------------------------


async def drive(
    prompt: str,
    *,
    options: ClaudeAgentOptions | None,
    transport: TransportArg,
    name: str,
    resume_prompt: str = RESUME_PROMPT,
) -> list[Any]:
    """Run (or replay, or resume) one agent run inside the current checkpoint."""
    if not isinstance(prompt, str):
        raise KitaruUsageError(
            "Inside a Kitaru flow the prompt must be a string (a stream of prompts cannot be "
            "replayed); use kc.ClaudeSDKClient for a conversation."
        )
    options = options or ClaudeAgentOptions()
    key = f"claude_agent_sdk:{name}"

    async def new_session() -> dict[str, Any]:
        return {
            "session_id": options.resume or str(uuid.uuid4()),
            "continues": options.resume is not None,
            "run_id": uuid.uuid4().hex[:12],
        }

    ident = await ajournaled(key + ".session", new_session)
    session_id: str = ident["session_id"]
    key = f"{key}.{ident['run_id']}"  # several runs of one name in a checkpoint stay apart
    recorded = [
        await ajournaled(key + ".message", _not_recorded)
        for _ in range(_recorded_count(key + ".message"))
    ]
    messages: list[Any] = decode_all(recorded)
    replayed = len(messages)
    matchers = approval_matchers(options)
    store = options.session_store or KitaruSessionStore()
    approvals = ApprovalRun()
    decisions: list[dict[str, Any]] = []
    token = active_run().set(approvals)
    try:
        # waits answered before (in order, so their names and counts match the first run)
        for m in messages[:-1]:
            if isinstance(m, ResultMessage) and m.deferred_tool_use is not None:
                d = m.deferred_tool_use
                approvals.decisions[d.id] = await _ask(matchers, d, session_id, name)
                decisions.append(
                    {
                        "tool_use_id": d.id,
                        "tool_name": d.name,
                        **approvals.decisions[d.id].model_dump(),
                    }
                )
        segment = 0
        while True:
            last = messages[-1] if messages else None
            changes: dict[str, Any] = {"session_store": store}
            if options.session_store is None:
                changes["session_store_flush"] = "eager"
            if isinstance(last, ResultMessage) and last.deferred_tool_use is None:
                break
            if isinstance(last, ResultMessage):
                deferred = last.deferred_tool_use
                assert deferred is not None
                d = deferred
                approvals.decisions[d.id] = await _ask(matchers, d, session_id, name)
                decisions.append(
                    {
                        "tool_use_id": d.id,
                        "tool_name": d.name,
                        **approvals.decisions[d.id].model_dump(),
                    }
                )
                run_prompt = resume_prompt
                changes.update(resume=session_id, session_id=None, fork_session=False)
            elif messages:  # interrupted (a crash): resume the session, do not start over
                run_prompt = resume_prompt
                changes.update(resume=session_id, session_id=None, fork_session=False)
            else:
                run_prompt = prompt
                if ident["continues"]:
                    changes.update(resume=session_id, session_id=None)
                else:
                    changes.update(session_id=session_id, resume=None)
            if (
                matchers
                and options.permission_prompt_tool_name is None
                and (options.can_use_tool is not None or not options.allowed_tools)
            ):
                # (with allowed_tools and no callback of the user's, the SDK would warn that
                # the added callback is shadowed for those tools: the hook alone gates then)
                changes["can_use_tool"] = guard_can_use_tool(options, matchers)
            run_options = dataclasses.replace(options, **changes)
            live = _transport(transport, run_options, segment)
            segment += 1
            before = len(messages)
            async for message in sdk_query(prompt=run_prompt, options=run_options, transport=live):
                await ajournaled(key + ".message", _value(encode(message)))
                messages.append(message)
            if len(messages) == before or not isinstance(messages[-1], ResultMessage):
                raise KitaruRuntimeError(
                    f"The Claude run '{name}' ended without a result message (session "
                    f"{session_id}); it resumes the session when the checkpoint runs again."
                )
    finally:
        active_run().reset(token)
    _track(messages, name=name, session_id=session_id, replayed=replayed, decisions=decisions)
    return messages


def _usage_sum(results: list[ResultMessage]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for r in results:
        for k, v in (r.usage or {}).items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                total[k] = total.get(k, 0) + v
    return total


def _track(
    messages: list[Any],
    *,
    name: str,
    session_id: str,
    replayed: int,
    decisions: list[dict[str, Any]],
) -> None:
    """Merge the run's summary into the checkpoint's metadata; save transcript and result."""
    events: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        base = {"index": i, "replayed": i < replayed}
        if isinstance(m, AssistantMessage):
            for block in m.content:
                if isinstance(block, TextBlock):
                    events.append({**base, "type": "text", "text": block.text[:2000]})
                elif isinstance(block, ToolUseBlock):
                    events.append(
                        {
                            **base,
                            "type": "tool_use",
                            "tool_use_id": block.id,
                            "tool_name": block.name,
                            "input": encode(block.input),
                        }
                    )
        elif isinstance(m, UserMessage) and isinstance(m.content, list):
            for block in m.content:
                if isinstance(block, ToolResultBlock):
                    events.append(
                        {
                            **base,
                            "type": "tool_result",
                            "tool_use_id": block.tool_use_id,
                            "is_error": bool(block.is_error),
                        }
                    )
    results = [m for m in messages if isinstance(m, ResultMessage)]
    final = results[-1] if results else None
    cost = round(sum(r.total_cost_usd or 0 for r in results), 6)
    usage = _usage_sum(results)
    label = f"{name}_{session_id[:8]}"
    summary = {
        "agent": name,
        "session_id": session_id,
        "status": "failed" if final is None or final.is_error else "completed",
        "message_count": len(messages),
        "replayed_messages": replayed,
        "segments": len(results),
        "num_turns": sum(r.num_turns for r in results),
        "tool_use_count": sum(1 for e in events if e["type"] == "tool_use"),
        "total_cost_usd": cost,
        "usage": usage,
        "approvals": decisions,
        "events": events,
        "artifacts": [f"{label}_transcript", f"{label}_result"],
    }
    kitaru.log(claude_agent_sdk_runs={label: summary}, total_cost_usd=cost, usage=usage)
    kitaru.save(f"{label}_transcript", encode_all(messages), type="response")
    result = None
    if final is not None:
        result = final.structured_output if final.structured_output is not None else final.result
    kitaru.save(f"{label}_result", encode(result), type="output")


# -- entry points ----------------------------------------------------------------------------


def _no_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise KitaruUsageError(
        "kc.query_sync() cannot run inside a running event loop; use `async for m in "
        "kc.query(...)` there."
    )


def _in_new_loop(coro_factory: Callable[[], Any]) -> Any:
    _no_running_loop()
    return asyncio.run(coro_factory())


def _as_checkpoint(
    prompt: str,
    options: ClaudeAgentOptions | None,
    transport: TransportArg,
    name: str,
    resume_prompt: str,
) -> list[Any]:
    invocation_id = f"{name}_agent_run_{next_run_number(f'claude_agent_sdk:{name}')}"
    if transport is None and invocation_id not in used_invocation_ids():
        # A run this execution has not recorded needs the CLI: check the setup before its
        # checkpoint starts, so a missing CLI or key fails the flow body as a usage error
        # and records no failed agent run. A recorded run (a retry, a continuation, a reused
        # replay) may return its journal without the model, so it is not checked here.
        check_cli_and_credentials(options or ClaudeAgentOptions())

    def body() -> list[Any]:
        return encode_all(
            _in_new_loop(
                lambda: drive(
                    prompt,
                    options=options,
                    transport=transport,
                    name=name,
                    resume_prompt=resume_prompt,
                )
            )
        )

    data = run_as_checkpoint(
        body,
        name=f"{name}_agent_run",
        invocation_id=invocation_id,
        type="llm_call",
        allow_waits=True,
    )
    return [decode(m) for m in data]


def query(
    prompt: Any,
    *,
    options: ClaudeAgentOptions | None = None,
    transport: TransportArg = None,
    name: str | None = None,
    resume_prompt: str = RESUME_PROMPT,
) -> AsyncIterator[Any]:
    """The SDK's ``query()``, durable inside a flow.

    The arguments are checked when ``query`` is called (not at the first ``async for``
    step). With no ``transport``, a missing Claude CLI or missing credentials raise then too
    outside a flow; in a flow body they raise at the first step, before the run's checkpoint
    starts (unless the execution recorded that run already).

    Args:
        prompt: the prompt: a string, or outside a flow an async iterable of message dicts.
        options: ``ClaudeAgentOptions``; ``session_store`` defaults to a
            :class:`KitaruSessionStore` inside a flow.
        transport: a ``Transport``, or a factory ``options -> Transport`` (needed when a run
            resumes its session, e.g. after an approval); default: the Claude CLI.
        name: the agent's name in checkpoint and event ids (default ``claude``; non-word runs
            become ``_``; a name with no letter, digit or ``_`` is refused).
        resume_prompt: the user message sent when an interrupted run resumes its session.

    Yields:
        The run's messages. Inside a flow they are yielded when the run has ended.

    Raises:
        KitaruUsageError: for an argument of the wrong type, and for a missing CLI or
            missing credentials.
    """
    return _start("kc.query", prompt, options, transport, name, resume_prompt)


def _start(
    what: str,
    prompt: Any,
    options: ClaudeAgentOptions | None,
    transport: TransportArg,
    name: Any,
    resume_prompt: Any,
) -> AsyncIterator[Any]:
    """Check the arguments of ``query`` (or of a ``ClaudeSDKClient`` turn, ``what``) at once
    and return the run's message stream."""
    label = check_entry_args(
        options=options, transport=transport, name=name, resume_prompt=resume_prompt, what=what
    )
    durable = in_flow()
    check_prompt(prompt, durable=durable, what=what)
    if not durable:
        if transport is None:
            check_cli_and_credentials(options or ClaudeAgentOptions())
        return plain_query(prompt, options, transport)
    return _durable_query(prompt, options, transport, label, resume_prompt)


async def _durable_query(
    prompt: str,
    options: ClaudeAgentOptions | None,
    transport: TransportArg,
    label: str,
    resume_prompt: str,
) -> AsyncIterator[Any]:
    if in_checkpoint():
        messages = await drive(
            prompt, options=options, transport=transport, name=label, resume_prompt=resume_prompt
        )
    else:
        messages = await asyncio.to_thread(
            _as_checkpoint, prompt, options, transport, label, resume_prompt
        )
    for message in messages:
        yield message


def query_sync(
    prompt: Any,
    *,
    options: ClaudeAgentOptions | None = None,
    transport: TransportArg = None,
    name: str | None = None,
    resume_prompt: str = RESUME_PROMPT,
) -> list[Any]:
    """:func:`query` for synchronous code (a ``@flow`` body): returns the run's messages.

    In the flow body the run is checkpoint ``<name>_agent_run_<n>``. The arguments are
    checked as :func:`query` checks them, and the call is refused inside a running event
    loop.
    """
    what = "kc.query_sync"
    label = check_entry_args(
        options=options, transport=transport, name=name, resume_prompt=resume_prompt, what=what
    )
    durable = in_flow()
    check_prompt(prompt, durable=durable, what=what)
    _no_running_loop()
    if not durable:
        if transport is None:
            check_cli_and_credentials(options or ClaudeAgentOptions())

        async def collect() -> list[Any]:
            return [m async for m in plain_query(prompt, options, transport)]

        return _in_new_loop(collect)  # type: ignore[no-any-return]
    if in_checkpoint():
        return _in_new_loop(
            lambda: drive(  # type: ignore[no-any-return]
                prompt,
                options=options,
                transport=transport,
                name=label,
                resume_prompt=resume_prompt,
            )
        )
    return _as_checkpoint(prompt, options, transport, label, resume_prompt)
