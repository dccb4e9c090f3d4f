"""``kp.wrap(agent)``: a PydanticAI wrapper agent whose runs are durable inside a flow.

* Outside a flow the wrapped agent is the plain agent: every call is forwarded untouched.
* Inside a checkpoint each run gets :class:`~kitaru_pydantic_ai._engine.KitaruDurability`:
  model requests and tool calls are journaled child events (replayed after a restart) and
  tracked in the checkpoint's metadata.
* ``run()`` / ``run_sync()`` called in the flow body run inside one synthetic ``llm_call``
  checkpoint ``<agent>_agent_run_<n>`` that may wait (for :func:`~kitaru_pydantic_ai.hitl_tool`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from kitaru.durable import in_checkpoint, in_flow, run_as_checkpoint, stable_id
from kitaru.errors import KitaruUsageError
from pydantic import TypeAdapter, ValidationError
from pydantic_ai.agent import AbstractAgent, AgentRun, WrapperAgent
from pydantic_ai.durable_exec import replay_scope
from pydantic_ai.models import Model
from pydantic_ai.run import AgentRunResult

from kitaru_pydantic_ai._capture import CaptureConfig, CapturePolicy, check_capture_args
from kitaru_pydantic_ai._checks import check_agent, check_tools, normalize_name, wrap_name
from kitaru_pydantic_ai._engine import ActiveRun, KitaruDurability, active_run
from kitaru_pydantic_ai._tracker import RunTracker, tracked_handler

__all__ = ["KitaruAgent", "attached_durability", "normalize_name", "wrap"]

T = TypeVar("T")


def _run_identity(agent_name: str) -> tuple[str, str]:
    """The run id and 8-hex run label of the next run of ``agent_name`` in this checkpoint
    call: derived from the execution and the call (:func:`kitaru.durable.stable_id`), so a
    restarted call names its runs as before without journaling anything."""
    digest = stable_id(f"pydantic_ai:{agent_name}.run")
    return str(uuid.UUID(hex=digest[:32], version=4)), digest[:8]


class KitaruAgent(WrapperAgent[Any, Any]):
    """A wrapped agent (see :func:`wrap`). Use it exactly like the agent it wraps."""

    def __init__(
        self,
        wrapped: AbstractAgent[Any, Any],
        *,
        name: str | None = None,
        tool_capture_config: CaptureConfig | None = None,
        tool_capture_config_by_name: Mapping[str, CaptureConfig | None] | None = None,
        model_capture_config: CaptureConfig | None = None,
    ) -> None:
        # Every argument is checked before anything is built (see kitaru_pydantic_ai._checks).
        if isinstance(wrapped, KitaruAgent):
            raise KitaruUsageError(f"Agent '{wrapped.kitaru_name}' is already wrapped.")
        check_agent(wrapped)
        check_capture_args(tool_capture_config, tool_capture_config_by_name, model_capture_config)
        kitaru_name = wrap_name(name, wrapped)
        #: The agent's own KitaruDurability (given at construction), else None: the adapter
        #: then gives one per run.
        attached = attached_durability(wrapped)
        durability = KitaruDurability(name=kitaru_name)
        check_tools(
            wrapped,
            by_name=tool_capture_config_by_name,
            durability=durability if attached is None else None,
        )
        super().__init__(wrapped)
        self.kitaru_name = kitaru_name
        self._policy = CapturePolicy(
            tool_capture_config, tool_capture_config_by_name, model_capture_config
        )
        self._attached = attached
        self._durability = durability
        self._override_model: ContextVar[Model | None] = ContextVar(
            f"kitaru_override_model_{self.kitaru_name}", default=None
        )

    def __repr__(self) -> str:
        return f"<KitaruAgent {self.kitaru_name} wrapping {self.wrapped!r}>"

    # -- entry points ----------------------------------------------------------------------

    async def run(self, user_prompt: Any = None, **kwargs: Any) -> AgentRunResult[Any]:
        """Like ``Agent.run``; in the flow body it runs as checkpoint ``<agent>_agent_run_<n>``
        (on a worker thread with its own event loop, so the flow's loop stays free)."""
        if in_flow() and not in_checkpoint():
            return await asyncio.to_thread(
                self._as_checkpoint, lambda: self._run_on_new_loop(user_prompt, kwargs), kwargs
            )
        if in_checkpoint():
            kwargs = self._with_tracked_handler(kwargs)
        return await super().run(user_prompt, **kwargs)

    def run_sync(self, user_prompt: Any = None, **kwargs: Any) -> AgentRunResult[Any]:
        """Like ``Agent.run_sync``; in the flow body it runs as checkpoint
        ``<agent>_agent_run_<n>``."""
        if not in_flow():
            return super().run_sync(user_prompt, **kwargs)
        if not in_checkpoint():
            return self._as_checkpoint(lambda: self._run_on_new_loop(user_prompt, kwargs), kwargs)
        return self._run_on_new_loop(user_prompt, kwargs)

    def _run_on_new_loop(self, user_prompt: Any, kwargs: dict[str, Any]) -> AgentRunResult[Any]:
        # Flow code runs on threads that end with the execution: run each agent run on an event
        # loop of its own that is closed afterwards (``Agent.run_sync`` would leave one open per
        # thread).
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(super().run(user_prompt, **self._with_tracked_handler(kwargs)))
        return super().run_sync(user_prompt, **kwargs)  # a loop runs here: PydanticAI reports it

    def _with_tracked_handler(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Time the run's event stream handler (the per-run one, else the agent's)."""
        handler = kwargs.get("event_stream_handler") or self.wrapped.event_stream_handler
        if handler is None:
            return kwargs
        return {**kwargs, "event_stream_handler": tracked_handler(handler)}

    @contextmanager
    def override(self, **kwargs: Any) -> Iterator[None]:
        """Like ``Agent.override``. An overriding ``Model`` instance is registered with the
        run's durability capability (journal names ``<agent>__model.request.override``)."""
        model = kwargs.get("model")
        token = self._override_model.set(model if isinstance(model, Model) else None)
        try:
            with super().override(**kwargs):
                yield
        finally:
            self._override_model.reset(token)

    @asynccontextmanager
    async def iter(
        self, user_prompt: Any = None, **kwargs: Any
    ) -> AsyncIterator[AgentRun[Any, Any]]:
        """Every kind of run goes through here: durable inside a checkpoint, plain outside."""
        if not in_checkpoint():
            if in_flow():
                raise KitaruUsageError(
                    f"Agent '{self.kitaru_name}': iter()/run_stream() in the flow body are not "
                    "durable. Call run() or run_sync() there (each becomes a checkpoint), or "
                    "call iter()/run_stream() inside a @checkpoint."
                )
            async with super().iter(user_prompt, **kwargs) as plain_run:
                yield plain_run
            return
        run_id, run_label = _run_identity(self.kitaru_name)
        tracker = RunTracker(agent_name=self.kitaru_name, run_label=run_label, policy=self._policy)
        token = active_run().set(ActiveRun(self.kitaru_name, run_id, tracker))
        capabilities = list(kwargs.pop("capabilities", None) or ())
        if self._attached is None:
            capabilities.append(self._capability_for(kwargs.get("model")))
        error: BaseException | None = None
        try:
            with replay_scope():
                async with super().iter(
                    user_prompt, capabilities=capabilities, **kwargs
                ) as agent_run:
                    yield agent_run
        except BaseException as exc:
            error = exc
            raise
        finally:
            active_run().reset(token)
            tracker.run_ended(error)
            tracker.flush()

    def _capability_for(self, run_model: Any) -> KitaruDurability:
        """Model *instances* chosen per run or by ``override`` are registered by key: events
        run in this process, so the instance itself is used (PydanticAI would otherwise refuse
        an instance it cannot rebuild on a remote worker)."""
        models: dict[str, Model] = {}
        if isinstance(run_model, Model):
            models["run"] = run_model
        override = self._override_model.get()
        if override is not None:
            models["override"] = override
        if not models:
            return self._durability
        return KitaruDurability(name=self.kitaru_name, models=models)

    # -- the synthetic checkpoint ----------------------------------------------------------

    def _as_checkpoint(
        self, body: Callable[[], AgentRunResult[Any]], kwargs: Mapping[str, Any]
    ) -> AgentRunResult[Any]:
        output_type = kwargs.get("output_type") or self.wrapped.output_type
        adapter = _result_adapter(output_type)

        def as_json() -> Any:
            # The checkpoint records the result's public JSON form; live and replayed calls
            # both rebuild it from there, so they return the same thing.
            return adapter.dump_python(body(), mode="json")

        data = _run_numbered(as_json, f"{self.kitaru_name}_agent_run")
        try:
            result: AgentRunResult[Any] = adapter.validate_python(data)
        except ValidationError as exc:  # a replay override of the wrong shape
            raise KitaruUsageError(
                f"The recorded result of a run of agent '{self.kitaru_name}' is not an agent run "
                f"result: {_problems(exc)} (got {str(data)[:200]}). A replay override of an "
                '<agent>_agent_run_<n> checkpoint must look like {"output": <the agent\'s '
                f"output>}}, the output being {_expected(output_type)}."
            ) from None
        return result


def _problems(exc: ValidationError) -> str:
    """Each validation error as ``at <field path>: <what was wrong>`` (the first three)."""
    errors = exc.errors()
    shown = [
        f"at {'.'.join(str(p) for p in e['loc']) or 'the top level'}: {e['msg']}"
        for e in errors[:3]
    ]
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(shown) + more


def _expected(output_type: Any) -> str:
    if isinstance(output_type, type):
        return f"a {output_type.__name__} (as JSON)"
    return "the agent's output as JSON"


def _run_numbered(body: Callable[[], T], base: str) -> T:
    """Run ``body`` as checkpoint ``<base>_<n>``, n = 1, 2, ... per flow round (deterministic
    across restarts, because the flow body calls the agent in the same order)."""
    return run_as_checkpoint(body, name=base, type="llm_call", allow_waits=True, numbered=True)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _result_adapter(output_type: Any) -> TypeAdapter[Any]:
    """``TypeAdapter(AgentRunResult[T])`` for a plain output type ``T``; ``Any`` for output
    specs that are not one type (``[str, X]``, ``ToolOutput(...)``, output functions)."""
    try:
        adapter = _ADAPTERS.get(output_type)
    except TypeError:  # unhashable spec
        output_type, adapter = Any, _ADAPTERS.get(Any)
    if adapter is not None:
        return adapter
    adapter = None
    if isinstance(output_type, type):
        try:
            adapter = TypeAdapter(AgentRunResult[output_type])
        except Exception:  # a type pydantic cannot describe: keep the output as JSON
            adapter = None
    if adapter is None:
        adapter = TypeAdapter(AgentRunResult[Any])
    _ADAPTERS[output_type] = adapter
    return adapter


def attached_durability(agent: AbstractAgent[Any, Any]) -> KitaruDurability | None:
    """The :class:`KitaruDurability` the agent was constructed with, if any."""
    root = getattr(agent, "root_capability", None)
    if root is None:
        return None
    found: list[KitaruDurability] = []
    root.apply(lambda cap: found.append(cap) if isinstance(cap, KitaruDurability) else None)
    return found[0] if found else None


def wrap(
    agent: AbstractAgent[Any, Any],
    *,
    name: str | None = None,
    tool_capture_config: CaptureConfig | None = None,
    tool_capture_config_by_name: Mapping[str, CaptureConfig | None] | None = None,
    model_capture_config: CaptureConfig | None = None,
) -> KitaruAgent:
    """Make a PydanticAI agent durable inside Kitaru flows.

    Args:
        agent: the agent; it must have a model (``Agent(model, ...)``).
        name: the name used in checkpoint and event ids (default: the agent's name, else
            ``"agent"``; non-word runs become ``_``; a name with no word character is refused).
        tool_capture_config: how much of each tool call to record (default: everything).
        tool_capture_config_by_name: per-tool overrides; ``None`` turns a tool's capture off.
            When all of the agent's toolsets are function toolsets, a name that is not one of
            its tools is refused.
        model_capture_config: how much of each model request to record (default: everything;
            ``save_args`` / ``save_result`` are the prompt / response artifacts). Capture never
            changes what is journaled for replay.

    Returns:
        A :class:`KitaruAgent` to use in place of ``agent``.

    Raises:
        KitaruUsageError: for an argument of the wrong type, and for what a run in a flow would
            refuse: a tool with ``requires_approval=True`` (or an ``ExternalToolset``), a
            toolset without the explicit ``id`` its journal names need.
    """
    return KitaruAgent(
        agent,
        name=name,
        tool_capture_config=tool_capture_config,
        tool_capture_config_by_name=tool_capture_config_by_name,
        model_capture_config=model_capture_config,
    )
