"""Kitaru as a PydanticAI durable-execution engine (``pydantic_ai.durable_exec``).

:class:`KitaruDurability` is attached to every run of a wrapped agent that happens inside a
checkpoint. PydanticAI routes each model request (plain or streamed), tool call (function, MCP,
dynamic toolsets), MCP discovery and capability operation through
:meth:`_JournalBackend.execute`, which records-or-replays it as a child event of the checkpoint
with :func:`kitaru.durable.ajournaled`: a restarted checkpoint gets the results of completed
requests and tool calls from the journal instead of sending them again. A tool's control-flow
outcome (``ModelRetry``, ``ToolFailed``, ...) is a recorded result too, so the replayed run
sees what the model saw. Argument validation is deterministic and runs inline (not journaled);
a tool that raises is not recorded and runs again. An event's artifacts (prompt/response,
args/result, a streamed request's transcript) are staged before its journal entry, so the
event and its artifacts are one commit.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from kitaru.durable import ajournaled, in_checkpoint, in_flow, replayed_wait
from kitaru.errors import KitaruUsageError
from pydantic_ai import DeferredToolRequests, DeferredToolResults, RunContext
from pydantic_ai.durable_exec import (
    JSON_CODEC,
    BaseDurabilityCapability,
    DurabilityEngineSpec,
    DurableOperationBackend,
    DurableOperationId,
    JournalCallableOperationBackend,
    ModelRequestId,
    RoleBasedOperationConfig,
    ToolsetCallToolId,
    ToolsetValidateToolArgumentsId,
    record_durable_unit,
)
from pydantic_ai.messages import ModelMessagesTypeAdapter
from pydantic_ai.models import Model
from pydantic_core import to_jsonable_python

from kitaru_pydantic_ai._tracker import PendingEvent, RunTracker

__all__ = ["ActiveRun", "KitaruDurability", "ToolCall", "active_run", "current_tool_call"]

DEFERRED_MESSAGE = (
    "Tool '{tool}' asked to defer its call ({kind}), but deferred tool flows are not "
    "supported inside a Kitaru checkpoint. Use kp.hitl_tool(...) to ask a human through a "
    "durable wait, or call kitaru.wait(...) explicitly in the flow."
)
_DEFERRED_KINDS = {"approval_required": "ApprovalRequired", "call_deferred": "CallDeferred"}
HITL_ATTRIBUTE = "__kitaru_hitl__"


@dataclass
class ActiveRun:
    """The wrapped agent run in progress in this task (set by ``KitaruAgent.iter``)."""

    agent_name: str
    run_id: str
    tracker: RunTracker


@dataclass(frozen=True, kw_only=True)
class ToolCall:
    """The tool call whose body is running (what a hitl tool puts in its wait's metadata)."""

    tool_name: str
    tool_call_id: str | None
    tool_args: Any


_active: ContextVar[ActiveRun | None] = ContextVar("kitaru_pydantic_ai_run", default=None)
_tool_call: ContextVar[ToolCall | None] = ContextVar("kitaru_pydantic_ai_tool_call", default=None)
#: The streamed model request whose unit is running (its transcript collects the events).
_streaming: ContextVar[PendingEvent | None] = ContextVar(
    "kitaru_pydantic_ai_streaming", default=None
)


def active_run() -> ContextVar[ActiveRun | None]:
    return _active


def current_tool_call() -> ToolCall | None:
    """The tool call being executed in this context, if a wrapped agent runs it."""
    return _tool_call.get()


def _parts(
    cache_key: tuple[object, ...],
) -> tuple[list[Any] | None, dict[str, Any] | None, RunContext[Any] | None, Any]:
    """Pick the messages / tool args / run context / tool out of an operation's cache key.

    The key is documented as opaque hash input, so elements are found by type, not position.
    """
    messages = args = ctx = tool = None
    for item in cache_key:
        if isinstance(item, RunContext):
            ctx = ctx or item
        elif isinstance(item, list) and messages is None:
            messages = item
        elif isinstance(item, dict) and args is None:
            args = item
        elif hasattr(item, "tool_def") and tool is None:
            tool = item
    return messages, args, ctx, tool


def _hitl_spec(tool: Any, name: str) -> Any:
    """The ``HitlSpec`` of a hitl tool (see :mod:`kitaru_pydantic_ai._hitl`), else None."""
    toolset = getattr(tool, "toolset", None)
    tools = getattr(toolset, "tools", None)
    if not isinstance(tools, dict):
        return None
    original = getattr(tool, "original_name", None) or name
    found = tools.get(original)
    return getattr(getattr(found, "function", None), HITL_ATTRIBUTE, None)


def _is_hitl(tool: Any, name: str) -> bool:
    return _hitl_spec(tool, name) is not None


def _refuse_deferred(payload: Any, tool_name: str) -> None:
    kind = payload.get("kind") if isinstance(payload, dict) else None
    if kind in _DEFERRED_KINDS:
        raise KitaruUsageError(DEFERRED_MESSAGE.format(tool=tool_name, kind=_DEFERRED_KINDS[kind]))


class _JournalBackend(JournalCallableOperationBackend[dict[str, Any]]):
    """Every durable unit is one journaled child event of the current checkpoint."""

    async def execute(
        self,
        *,
        operation_id: DurableOperationId,
        name: str,
        body: Callable[[], Awaitable[object]],
        cache_key: tuple[object, ...],
        config: dict[str, Any],
    ) -> object:
        run = _active.get()
        if run is None or isinstance(operation_id, ToolsetValidateToolArgumentsId):
            return await body()
        tracker = run.tracker
        event, call = self._begin(tracker, operation_id, name, cache_key)
        executed = False

        async def unit() -> object:
            nonlocal executed
            executed = True
            token = _tool_call.set(call) if call is not None else None
            try:
                payload = await body()
            finally:
                if token is not None:
                    _tool_call.reset(token)
            if call is not None:
                _refuse_deferred(payload, call.tool_name)
            if event is not None:
                # Staged now, so the event's artifacts are committed with the event itself.
                prompt = None
                if (
                    event.type == "llm_call"
                    and event.capture.save_args
                    and event.inputs is not None
                ):
                    prompt = _prompt_json(event.inputs)
                tracker.finished(
                    event,
                    payload,
                    replayed=False,
                    prompt_json=prompt,
                    response_saved=save_as is not None,
                )
            return payload

        streaming = event is not None and event.record.get("streaming") is True
        stream_token = _streaming.set(event) if streaming else None
        # A model response is saved as its artifact straight from the journal's encoding.
        save_as = (
            (f"{event.event_id}_response", "response")
            if event is not None and event.type == "llm_call" and event.capture.save_result
            else None
        )
        try:
            payload = await ajournaled(f"pydantic_ai:{name}", unit, save_as=save_as)
        except Exception as exc:
            if event is not None and event.event_id not in tracker.events:
                tracker.failed(event, exc)
            raise
        finally:
            if stream_token is not None:
                _streaming.reset(stream_token)
        record_durable_unit(executed=executed)
        if not executed and call is not None:
            _count_replayed_wait(cache_key, call.tool_name)
        if event is not None and not executed:
            tracker.finished(event, payload, replayed=True)
        return payload

    @staticmethod
    def _begin(
        tracker: RunTracker,
        operation_id: DurableOperationId,
        name: str,
        cache_key: tuple[object, ...],
    ) -> tuple[PendingEvent | None, ToolCall | None]:
        if isinstance(operation_id, ModelRequestId):
            messages, _, _, _ = _parts(cache_key)
            event = tracker.model_started(
                model_name=operation_id.model_name,
                streaming=operation_id.streaming,
                prompt=messages,
            )
            return event, None
        if isinstance(operation_id, ToolsetCallToolId):
            _, args, ctx, tool = _parts(cache_key)
            tool_name = (ctx.tool_name if ctx is not None else None) or name.rpartition(":")[2]
            call = ToolCall(
                tool_name=tool_name,
                tool_call_id=ctx.tool_call_id if ctx is not None else None,
                tool_args=args,
            )
            event = tracker.tool_started(
                tool_name=tool_name,
                toolset_kind=operation_id.toolset_kind,
                tool_call_id=call.tool_call_id,
                args=args,
                hitl=_is_hitl(tool, tool_name),
            )
            return event, call
        return None, None


def _prompt_json(messages: Any) -> bytes | Any:
    """The prompt as JSON text (pydantic encodes it directly), else its JSON-able form."""
    try:
        return ModelMessagesTypeAdapter.dump_json(messages)
    except Exception:
        return ModelMessagesTypeAdapter.dump_python(messages, mode="json", fallback=repr)


def _count_replayed_wait(cache_key: tuple[object, ...], tool_name: str) -> None:
    """A hitl tool call answered in an earlier segment is replayed without asking again:
    count its wait, so a later call of the same tool waits under the next name (``ask_2``),
    not under the answered one."""
    _, _, _, tool = _parts(cache_key)
    spec = _hitl_spec(tool, tool_name)
    if spec is not None:
        replayed_wait(spec.name or tool_name)


class KitaruDurability(BaseDurabilityCapability[Any]):
    """The durability capability a wrapped agent's runs get inside a checkpoint.

    Give it at agent construction (``Agent(model, capabilities=[kp.KitaruDurability()])``)
    and ``kp.wrap`` uses it instead of adding one per run. ``models``: model instances that
    runs may select by key or instance (``run(model=...)``, ``override(model=...)``).
    """

    def __init__(
        self,
        *,
        models: Mapping[str, Model] | None = None,
        event_stream_handler: Any = None,
        name: str | None = None,
    ) -> None:
        if models is not None and (
            not isinstance(models, Mapping)
            or not all(isinstance(k, str) and isinstance(v, Model) for k, v in models.items())
        ):
            raise KitaruUsageError(
                "kp.KitaruDurability(models=...) must map names to model instances, e.g. "
                f'models={{"backup": TestModel()}}; got {models!r}.'
            )
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise KitaruUsageError(
                f"kp.KitaruDurability(name=...) must be a non-empty string or None, got {name!r}."
            )
        super().__init__(models=models, event_stream_handler=event_stream_handler, name=name)

    engine_spec = DurabilityEngineSpec(
        engine_name="Kitaru",
        durable_unit_noun="journaled event",
        durable_container_noun="checkpoint",
        codec=JSON_CODEC,
        toolset_lifecycles={
            "function": "enter-always",
            "mcp": "enter-in-durable-unit",
            "dynamic": "enter-never",
        },
        # Journal keys are the operation name plus an ordinal, so the order must be stable.
        sequential_tools_in_durable_context=True,
        tool_config_key="kitaru",
    )

    def for_agent(self, agent: Any) -> Any:
        """Bind once per agent (and toolset set) and reuse the bound copy for later runs.

        A wrapped agent's capability is attached per run, and binding wraps every toolset and
        collects the capability operations, which costs more than a model request's journaling.
        A bound copy is safe to reuse across runs: PydanticAI reuses a construction-time bound
        capability for every run of its agent in the same way.
        """
        key = (id(agent), tuple(id(t) for t in agent.toolsets))
        cache: dict[Any, tuple[Any, Any]] = self.__dict__.setdefault("_kitaru_bound", {})
        hit = cache.get(key)
        if hit is not None and hit[0] is agent:
            return hit[1]
        bound = super().for_agent(agent)
        cache.clear()  # keep one: the agent (or its toolsets) changed
        cache[key] = (agent, bound)
        return bound

    @property
    def in_durable_context(self) -> bool:
        return _active.get() is not None and in_checkpoint()

    async def wrap_run(self, ctx: RunContext[Any], *, handler: Any) -> Any:
        """Refuse a run inside a checkpoint of an agent that has this capability but was not
        wrapped: nothing of it would be journaled or tracked."""
        if _active.get() is None and in_flow():
            where = "a checkpoint" if in_checkpoint() else "a flow"
            raise KitaruUsageError(
                f"Agent '{self.name or 'agent'}' has kp.KitaruDurability but runs inside "
                f"{where} without kp.wrap(): its model requests and tool calls would not be "
                "journaled. Run it as kp.wrap(agent)."
            )
        return await super().wrap_run(ctx, handler=handler)

    def _model_stream_event_handler(self) -> Any:
        """Record a streamed model request's live events for its ``_stream_transcript``.

        The engine hook that consumes the live model stream inside the model-request unit
        (Temporal overrides it the same way). The run's own handler, if any, still gets every
        event; the recorder drains what it leaves, as the base class would.
        """
        inner = super()._model_stream_event_handler()

        async def record(ctx: RunContext[Any], stream: AsyncIterable[Any]) -> None:
            event = _streaming.get()
            if event is None:
                if inner is not None:
                    await inner(ctx, stream)
                return
            event.stream = collected = []
            started = time.perf_counter()

            async def recorded() -> AsyncIterator[Any]:
                async for item in stream:
                    collected.append(to_jsonable_python(item, fallback=repr))
                    yield item

            events = recorded()
            try:
                if inner is not None:
                    await inner(ctx, events)
                async for _ in events:
                    pass
            finally:
                event.stream_ms = (time.perf_counter() - started) * 1000

        return record

    async def handle_deferred_tool_calls(
        self, ctx: RunContext[Any], *, requests: DeferredToolRequests
    ) -> DeferredToolResults | None:
        """Deferred tools cannot pause a checkpoint: refuse them with a pointer to hitl_tool."""
        if not self.in_durable_context:
            return None
        approvals = [c.tool_name for c in requests.approvals]
        calls = [c.tool_name for c in requests.calls]
        kind = " and ".join(
            k for k, names in (("ApprovalRequired", approvals), ("CallDeferred", calls)) if names
        )
        raise KitaruUsageError(
            DEFERRED_MESSAGE.format(tool="', '".join(approvals + calls), kind=kind)
        )

    def get_default_run_id(self) -> str | None:
        run = _active.get()
        return run.run_id if run is not None else None

    def get_durable_operation_backend(self) -> DurableOperationBackend[Any]:
        backend = self.__dict__.get("_kitaru_backend")
        if backend is None or backend[0] != (self.name, self.default_model_id):
            config: RoleBasedOperationConfig[dict[str, Any]] = RoleBasedOperationConfig(
                model={}, event={}, capability={}, tool={}
            )
            backend = (
                (self.name, self.default_model_id),
                _JournalBackend(
                    agent_name=self.name,
                    default_model_id=self.default_model_id,
                    config=config,
                ),
            )
            self.__dict__["_kitaru_backend"] = backend
        return backend[1]
