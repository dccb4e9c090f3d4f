"""``kp.hitl_tool``: a tool whose answer comes from a human through a durable ``wait()``.

Inside a flow the tool's body is skipped: the call becomes a flow-level wait
(:func:`kitaru.durable.flow_wait`, ``kitaru.wait`` issued for the tool, allowed inside any
checkpoint) with ``name=<name or tool name>``, ``schema``, ``question`` and
``metadata={"adapter": "pydantic_ai", "tool_name", "tool_call_id", "tool_args"}``; the input
becomes the tool's result. An unanswered wait suspends the execution (status ``waiting``);
input continues it, the checkpoint the agent ran in (the synthetic ``<agent>_agent_run_<n>`` or
the user's own ``@checkpoint``) runs again, its earlier model requests and tool calls replay
from the journal, and the wait returns the input. Outside a flow the body runs as written (a
console prompt, a default, ...).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from kitaru.durable import check_wait_args, flow_wait, in_flow
from kitaru.errors import KitaruUsageError
from pydantic_ai import RunContext, Tool
from pydantic_core import to_jsonable_python

from kitaru_pydantic_ai._engine import HITL_ATTRIBUTE, active_run, current_tool_call

__all__ = ["HitlSpec", "hitl_tool"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, kw_only=True)
class HitlSpec:
    """How a hitl tool asks: the wait's name, question, schema and listening window."""

    question: str | None = None
    name: str | None = None
    schema: Any = None
    timeout: float | None = None


def _check_spec(*, question: Any, name: Any, schema: Any, timeout: Any) -> None:
    """``kitaru.wait``'s rules for the same arguments, checked when the tool is marked."""
    check_wait_args(
        name=name, question=question, timeout=timeout, schema=schema, what="kp.hitl_tool"
    )


def _ask(
    spec: HitlSpec, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = current_tool_call()
    ctx = next((a for a in args if isinstance(a, RunContext)), None)
    if call is not None:
        tool_name, tool_call_id, tool_args = call.tool_name, call.tool_call_id, call.tool_args
    else:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
        tool_args = {k: v for k, v in bound.items() if not isinstance(v, RunContext)}
        tool_name = (ctx.tool_name if ctx is not None else None) or fn.__name__
        tool_call_id = ctx.tool_call_id if ctx is not None else None
    metadata = {
        "adapter": "pydantic_ai",
        "tool_name": tool_name,
        "tool_call_id": tool_call_id,
        "tool_args": to_jsonable_python(tool_args, fallback=repr),
    }
    wait_kwargs: dict[str, Any] = {}
    if spec.timeout is not None:
        wait_kwargs["timeout"] = spec.timeout
    run = active_run().get()
    if run is not None:  # the run's events so far go with the call while it waits
        run.tracker.flush()
    return flow_wait(
        schema=spec.schema,
        name=spec.name or tool_name,
        question=spec.question,
        metadata=metadata,
        **wait_kwargs,
    )


def _wrap_function(fn: Callable[..., Any], spec: HitlSpec) -> Callable[..., Any]:
    if getattr(fn, HITL_ATTRIBUTE, None) is not None:
        raise KitaruUsageError(f"Tool {fn.__name__!r} is already a hitl tool.")
    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(fn):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if in_flow():
                # wait() listens by polling: keep it off the event loop.
                return await asyncio.to_thread(_ask, spec, fn, args, kwargs)
            return await fn(*args, **kwargs)

        wrapper = async_wrapper
    else:

        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            if in_flow():
                return _ask(spec, fn, args, kwargs)
            return fn(*args, **kwargs)

        wrapper = sync_wrapper
    functools.update_wrapper(wrapper, fn)
    setattr(wrapper, HITL_ATTRIBUTE, spec)
    return wrapper


@overload
def hitl_tool(func: F, /) -> F: ...


@overload
def hitl_tool(
    func: None = None,
    /,
    *,
    question: str | None = None,
    name: str | None = None,
    schema: Any = None,
    timeout: float | None = None,
) -> Callable[[F], F]: ...


def hitl_tool(
    func: Any = None,
    /,
    *,
    question: str | None = None,
    name: str | None = None,
    schema: Any = None,
    timeout: float | None = None,
) -> Any:
    """Mark a tool function (or a ``pydantic_ai.Tool``) as answered by a human.

    Use it under ``@agent.tool_plain`` / ``@agent.tool`` (or on a function you pass to
    ``tools=[...]``). Inside a flow, calling the tool issues a flow-level
    ``kitaru.wait(schema=schema, name=name or <tool name>, question=question, timeout=timeout)``
    with the call in the wait's metadata, and the input is the tool's result. The agent may run
    in the flow body (``run()`` / ``run_sync()``, each a checkpoint of its own) or inside a
    ``@checkpoint``: either checkpoint suspends with the execution and runs again when the
    input arrives, replaying the model requests and tool calls it had completed.

    Args:
        question: shown to whoever answers.
        name: the wait's name (default: the tool's name).
        schema: the answer's type (``bool``, ``str``, a pydantic model, ...; default any JSON).
        timeout: seconds the runner listens before the execution suspends as ``waiting``
            (default: ``kitaru.wait``'s).

    Raises:
        KitaruUsageError: at once, for arguments ``kitaru.wait`` would refuse (a non-string
            ``question``, an empty ``name``, a negative or non-numeric ``timeout``, a
            ``schema`` that is not a type).
    """
    _check_spec(question=question, name=name, schema=schema, timeout=timeout)
    spec = HitlSpec(question=question, name=name, schema=schema, timeout=timeout)

    def mark(target: Any) -> Any:
        if isinstance(target, Tool):
            wrapped = _wrap_function(
                target.function,
                HitlSpec(
                    question=question, name=name or target.name, schema=schema, timeout=timeout
                ),
            )
            target.function = wrapped
            target.function_schema.function = wrapped
            return target
        if not callable(target):
            hint = (
                f" For the question, pass it by name: @kp.hitl_tool(question={target!r})."
                if isinstance(target, str)
                else ""
            )
            raise KitaruUsageError(f"hitl_tool() marks a function or a Tool, got {target!r}.{hint}")
        return _wrap_function(target, spec)

    return mark if func is None else mark(func)
