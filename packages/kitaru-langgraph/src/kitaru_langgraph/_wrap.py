"""``klg.wrap(graph)``: run a compiled LangGraph graph durably inside a ``@flow``.

Inside the flow body each call of ``invoke/ainvoke/stream/astream`` (``batch/abatch``: one
``invoke`` per input, in turn) gets a LangGraph *thread* owned by the execution
(``<exec_id>`` for the first call, ``<exec_id>:<n>`` for the n-th; a ``thread_id`` of the
caller's is kept, and continued by one execution at a time) and runs on a copy of the graph
whose checkpointer is :class:`KitaruCheckpointSaver` with ``durability="sync"``, so each
superstep's checkpoint is in the journal before the next node starts. That checkpointer is
what makes completed nodes not run again: when the flow body runs again (retry after a crash,
continuation after input), the call finds its thread and resumes it (``graph.invoke(None)``),
or re-reads the final state of a thread that already finished.

Each completed node, subgraph nodes included, is also *recorded* as a checkpoint call of type
``graph_node`` named after the node (``<node>``, ``<node>_2``, ...; ``<parent>:<node>`` inside
a subgraph), so it shows in ``Execution.checkpoints`` (see :mod:`._nodes`); the node itself
runs in LangGraph's executor, not inside a Kitaru checkpoint.

``interrupt(value)`` in a node ends the graph run with a pending interrupt; the wrapper then
calls ``kitaru.wait()`` named after the node, which suspends the execution. When input
arrives the flow reruns, ``wait()`` returns the input and the graph resumes with
``Command(resume=input)``.

In a replay (:mod:`._fork`) the graph stops before each node whose call is overridden and the
override is applied as that node's writes (``update_state(..., as_node=node)``) instead.

Outside a flow the wrapper calls the plain graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kitaru
from kitaru.backend import DocumentRecord
from kitaru.durable import in_checkpoint, in_flow
from kitaru.errors import KitaruUsageError
from kitaru.runtime import Runtime, current_runtime
from langgraph.pregel import Pregel
from langgraph.types import Command, StateSnapshot

from kitaru_langgraph._fork import (
    ForkPlan,
    Source,
    apply_fork,
    check_override,
    find_source,
    fork_thread,
    later_overrides,
    plan_fork,
)
from kitaru_langgraph._nodes import (
    CALL_KEY,
    EXEC_KEY,
    NodeRecorder,
    check_thread_free,
    json_safe,
    node_name,
)
from kitaru_langgraph._saver import KitaruCheckpointSaver

__all__ = ["KitaruGraph", "wrap"]

WAITS_NAMESPACE = "langgraph.waits"
_THREAD_COUNTER = "langgraph-thread"


def _question(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("question"), str):
        return value["question"]
    return None


def _values_of(history: Any) -> Any:
    """The state values of the newest snapshot of ``history`` (None if it is empty)."""
    for snap in history:
        return snap.values
    return None


def _finished(task: dict[str, Any]) -> bool:
    """Whether a ``tasks`` stream event reports a node that completed."""
    return not task.get("error") and not task.get("interrupts") and task["name"][:2] != "__"


@dataclass
class _Run:
    """One durable run of the graph: what the caller asked for and what the wrapper needs."""

    graph: Any
    saver: KitaruCheckpointSaver
    cfg: Any
    recorder: NodeRecorder
    modes: list[str]
    single: bool
    subgraphs: bool
    kwargs: dict[str, Any]
    #: ``{invocation id: node}`` overridden in this replay, applied when the node is due
    overrides: dict[str, str] = field(default_factory=dict)
    #: nodes the graph stops before so that their override can be applied
    stop_before: set[str] = field(default_factory=set)
    #: in a replay: the source thread, and how this call's thread forks it
    source: Source | None = None
    fork: ForkPlan | None = None
    values: Any = None
    #: whether a task of the current pass was interrupted
    interrupted: bool = False
    #: nodes that finished, in order, whose calls are not recorded yet: their document and
    #: whether it is attached to the node's writes (see ``KitaruCheckpointSaver.attach``)
    finished: list[tuple[DocumentRecord, bool]] = field(default_factory=list)

    def finish(self, name: str, update: Any, task_id: str) -> None:
        """A node finished: its document goes into the commit of its writes when it can."""
        doc = self.recorder.document(name, update, task_id)
        if doc is not None:
            self.finished.append((doc, self.saver.attach(task_id, [doc])))

    def record_finished(self, *, all: bool = False) -> None:
        """Record the finished nodes whose writes are durable (``all``: every one; at the end
        of a pass LangGraph has saved everything). A node's call is recorded only after its
        writes and its document, so a recorded node is never run again, and a crash in
        between is reconciled on restart (see ``NodeRecorder``)."""
        while self.finished:
            doc, attached = self.finished[0]
            task_id = doc.value["task_id"]
            if not all and not self.saver.writes_durable(task_id):
                return
            self.finished.pop(0)
            if not attached or self.saver.detach(task_id) is not None:
                kitaru.durable.put_documents([doc])  # no commit of the writes took it
            self.recorder.record_call(doc)

    @property
    def call_filter(self) -> dict[str, Any]:
        return {EXEC_KEY: self.recorder.exec_id, CALL_KEY: self.recorder.call}

    @property
    def internal_modes(self) -> list[str]:
        return sorted(set(self.modes) | {"tasks", "values"})

    def track(self, chunk: Any) -> tuple[bool, Any]:
        """Record the node a ``tasks`` chunk reports finished; say whether (and what) to
        hand the caller."""
        ns, mode, data = chunk  # the wrapper always streams with subgraphs=True
        if mode == "tasks" and "result" in data:
            if _finished(data):
                self.finish(node_name(ns, data["name"]), data["result"], data["id"])
            self.interrupted = self.interrupted or bool(data.get("interrupts"))
        self.record_finished()
        if mode == "values" and not ns:
            self.values = data
        if mode not in self.modes or (ns and not self.subgraphs):
            return False, None
        if self.single:
            return True, (ns, data) if self.subgraphs else data
        return True, (ns, mode, data) if self.subgraphs else (mode, data)

    def apply_overrides(self, snap: StateSnapshot) -> bool:
        """Apply the overrides of the nodes ``snap`` is about to run, as the nodes' writes
        (they do not run); say whether the graph had stopped before an overridden node."""
        if snap.interrupts or not (self.stop_before & set(snap.next)):
            return False
        payloads = (kitaru.durable.replay_plan() or {}).get("overrides") or {}
        replacements = self.fork.replacements if self.fork is not None else {}
        for task in snap.tasks:
            invocation_id = self.recorder.next_id(task.name)
            if self.overrides.get(invocation_id) != task.name:
                continue
            if invocation_id in payloads:
                from kitaru.durable import payload_from_json

                update = self.saver.runtime.decode(payload_from_json(payloads[invocation_id]))
                check_override(self.graph, task.name, update)
            else:  # a node before the frontier: its recorded writes (the input changed)
                _, update, inner = replacements[invocation_id]
                for doc in inner:
                    self.recorder.record(
                        doc["node"],
                        doc["summary"]["update"],
                        doc.get("task_id"),
                        invocation_id=doc["invocation_id"],
                    )
            self.graph.update_state(self.cfg, update, as_node=task.name)
            self.recorder.record(task.name, update, task.id, invocation_id=invocation_id)
        return True

    def settled(self) -> bool:
        """Whether the pass just streamed ended the run, as far as the stream tells (no
        interrupt, no stop before an overridden node): then the state need not be read."""
        return not self.interrupted and not self.stop_before

    def done(self, before: StateSnapshot | None, after: StateSnapshot) -> bool:
        """Whether the run is over after a pass that went from ``before`` to ``after``."""
        if after.interrupts:
            return False  # answer them (waits) and continue
        if self.stop_before & set(after.next):
            # Stopped before an overridden node: continue, unless the pass made no progress.
            return before is not None and after.config == before.config
        return True


class KitaruGraph:
    """A compiled LangGraph graph that runs durably inside a ``@flow`` (see :func:`wrap`).

    Every attribute other than the run methods is the wrapped graph's; in a flow body the
    graph's other entry points (``stream_events``, ``batch_as_completed``, ...) are refused.
    """

    def __init__(
        self, graph: Pregel, *, name: str | None = None, wait_timeout: float | None = 600
    ) -> None:
        self.graph = graph
        self.name = name or graph.name or "graph"
        self.wait_timeout = wait_timeout
        self._copies: dict[int, tuple[Runtime, Pregel]] = {}

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self.graph, attr)
        if attr in _NOT_DURABLE and in_flow() and not in_checkpoint():
            return _refused(attr)
        return value

    def __repr__(self) -> str:
        return f"KitaruGraph({self.name!r})"

    # -- the durable copy, the thread, the run ------------------------------------------------

    def _durable(self) -> tuple[Any, KitaruCheckpointSaver]:
        if isinstance(self.graph.checkpointer, KitaruCheckpointSaver):
            return self.graph, self.graph.checkpointer
        runtime = current_runtime()
        hit = self._copies.get(id(runtime))
        if hit is None or hit[0] is not runtime:
            saver = KitaruCheckpointSaver(runtime=runtime)
            hit = (runtime, self.graph.copy(update={"checkpointer": saver}))
            self._copies[id(runtime)] = hit
        graph = hit[1]
        assert isinstance(graph.checkpointer, KitaruCheckpointSaver)
        return graph, graph.checkpointer

    def _run(
        self, input: Any, config: Any, modes: list[str], single: bool, kwargs: dict[str, Any]
    ) -> _Run:
        graph, saver = self._durable()
        cfg = dict(config or {})
        configurable = dict(cfg.get("configurable") or {})
        exec_id = kitaru.durable.current_exec_id()
        assert exec_id is not None
        plan = dict(kitaru.durable.replay_plan() or {})
        user_thread = configurable.get("thread_id")
        if user_thread is None:
            n = kitaru.durable.next_run_number(_THREAD_COUNTER)
            configurable["thread_id"] = exec_id if n == 1 else f"{exec_id}:{n}"
        elif plan:  # a replay never writes into the caller's (live) thread: it forks it
            configurable["thread_id"] = fork_thread(exec_id, str(user_thread))
        cfg["configurable"] = configurable
        thread_id = str(configurable["thread_id"])
        # The n-th call on this thread in this run of the body (stable across restarts) tags
        # the checkpoints it makes, so a restart tells its own progress from other calls'.
        call = kitaru.durable.next_run_number(f"{_THREAD_COUNTER}:{thread_id}")
        cfg["metadata"] = {**(cfg.get("metadata") or {}), EXEC_KEY: exec_id, CALL_KEY: call}
        kwargs = dict(kwargs)
        run = _Run(
            graph=graph,
            saver=saver,
            cfg=cfg,
            recorder=NodeRecorder(
                saver.runtime.backend, thread_id, call, owned=user_thread is None
            ),
            modes=modes,
            single=single,
            subgraphs=bool(kwargs.pop("subgraphs", False)),
            kwargs=kwargs,
        )
        if plan:
            user = None if user_thread is None else str(user_thread)
            run.source = find_source(saver, plan, exec_id, thread_id, user)
        if run.source is not None:
            _check_overrides(graph, saver, plan, run.source)
            run.overrides = later_overrides(saver, plan, run.source)
            if call == 1:
                run.fork = plan_fork(graph, saver, plan, run.source, input)
            if run.fork is not None:
                run.overrides.update({i: r[0] for i, r in run.fork.replacements.items()})
        user_before = kwargs.get("interrupt_before")
        if run.overrides and user_before != "*":
            run.stop_before = set(run.overrides.values()) - set(user_before or ())
            kwargs["interrupt_before"] = sorted(run.stop_before | set(user_before or ()))
        kwargs.update(durability="sync", subgraphs=True)
        return run

    def _fork(self, run: _Run) -> bool:
        if run.fork is None or run.source is None:
            return False
        exec_id = kitaru.durable.current_exec_id()
        assert exec_id is not None
        return apply_fork(run.graph, run.saver, run.cfg, run.fork, run.source, exec_id)

    # -- interrupts -> waits ---------------------------------------------------------------------

    def _answers(self, saver: KitaruCheckpointSaver, snap: StateSnapshot) -> Command:
        """Call ``kitaru.wait()`` for each pending interrupt (suspends when unanswered)."""
        exec_id = kitaru.durable.current_exec_id()
        backend = saver.runtime.backend
        cfg = snap.config["configurable"]
        tup = saver.get_tuple(snap.config)
        resumes: dict[str, int] = {}
        for task_id, channel, value in (tup.pending_writes or []) if tup else []:
            if channel == "__resume__":
                resumes[task_id] = len(value) if isinstance(value, list) else 1
        answers: dict[str, Any] = {}
        for task in snap.tasks:
            for intr in task.interrupts:
                key = (
                    f"{exec_id}/{cfg['thread_id']}/{cfg.get('checkpoint_id')}/"
                    f"{intr.id}/{resumes.get(task.id, 0)}"
                )
                doc = backend.get_document(WAITS_NAMESPACE, key)
                if doc is None:
                    taken = [
                        d
                        for d in backend.list_documents(WAITS_NAMESPACE, prefix=f"{exec_id}/")
                        if d.value["node"] == task.name
                    ]
                    n = len(taken) + 1
                    wait_name = task.name if n == 1 else f"{task.name}_{n}"
                    record = DocumentRecord(
                        namespace=WAITS_NAMESPACE,
                        key=key,
                        value={"node": task.name, "wait": wait_name},
                        exec_id=exec_id,
                        created_at=datetime.now(UTC),
                    )
                    kitaru.durable.put_documents([record])
                else:
                    wait_name = doc.value["wait"]
                answers[intr.id] = kitaru.wait(
                    name=wait_name,
                    question=_question(intr.value),
                    metadata={
                        "interrupt": json_safe(intr.value),
                        "interrupt_id": intr.id,
                        "node": task.name,
                        "thread_id": cfg["thread_id"],
                    },
                    timeout=self.wait_timeout,
                )
        if len(answers) == 1:
            return Command(resume=next(iter(answers.values())))
        return Command(resume=answers)

    def _next_input(self, run: _Run, snap: StateSnapshot) -> Any:
        """What to continue the graph with from ``snap`` (after overrides or waits)."""
        if not run.apply_overrides(snap) and snap.interrupts:
            return self._answers(run.saver, snap)
        return None

    # -- sync --------------------------------------------------------------------------------

    def _durable_stream(self, input: Any, run: _Run) -> Iterator[Any]:
        graph, cfg = run.graph, run.cfg
        meta = run.saver.latest_metadata(cfg)
        if meta is None and run.recorder.call == 1 and self._fork(run):
            meta = run.saver.latest_metadata(cfg)
        check_thread_free(run.recorder, meta, lambda: graph.get_state(cfg).next)
        command: Any = input
        snap: StateSnapshot | None = None
        latest = run.recorder.position(meta) if meta is not None else None
        if latest is not None:
            if latest > run.recorder.call:  # this call finished in an earlier run of the body
                run.recorder.replay()
                run.values = _values_of(graph.get_state_history(cfg, filter=run.call_filter))
                return
            if latest == run.recorder.call:  # a restart of this call (or a replay's fork)
                snap = graph.get_state(cfg)
                run.recorder.replay()
                run.recorder.reconcile(graph.get_state_history(cfg))
                command = self._next_input(run, snap)
        while True:
            run.interrupted = False
            stream = graph.stream(command, cfg, stream_mode=run.internal_modes, **run.kwargs)
            for chunk in stream:
                show, item = run.track(chunk)
                if show:
                    yield item
            run.record_finished(all=True)
            if run.settled():
                return
            before, snap = snap, graph.get_state(cfg)
            if run.done(before, snap):
                return
            command = self._next_input(run, snap)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """``graph.invoke``; durable in a flow body (returns the final state values)."""
        if not in_flow() or in_checkpoint():
            return self.graph.invoke(input, config, **kwargs)
        kwargs.pop("stream_mode", None)
        run = self._run(input, config, [], True, kwargs)
        for _ in self._durable_stream(input, run):
            pass
        return run.values

    def stream(
        self, input: Any, config: Any = None, *, stream_mode: Any = None, **kwargs: Any
    ) -> Iterator[Any]:
        """``graph.stream``; durable in a flow body."""
        if not in_flow() or in_checkpoint():
            yield from self.graph.stream(input, config, stream_mode=stream_mode, **kwargs)
            return
        single = not isinstance(stream_mode, list)
        modes = [stream_mode or self.graph.stream_mode] if single else list(stream_mode)
        yield from self._durable_stream(input, self._run(input, config, modes, single, kwargs))

    def batch(
        self,
        inputs: list[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``graph.batch``; in a flow body the inputs run durably one after the other (each
        an :meth:`invoke` call on its own thread), not concurrently."""
        if not in_flow() or in_checkpoint():
            return self.graph.batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        out: list[Any] = []
        for item, cfg in zip(inputs, _configs(config, len(inputs)), strict=True):
            try:
                out.append(self.invoke(item, cfg, **kwargs))
            except Exception as error:  # (Kitaru's suspension signals are not Exceptions)
                if not return_exceptions:
                    raise
                out.append(error)
        return out

    # -- async -------------------------------------------------------------------------------

    async def abatch(
        self,
        inputs: list[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``graph.abatch``; in a flow body the inputs run durably one after the other."""
        if not in_flow() or in_checkpoint():
            return await self.graph.abatch(
                inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        out: list[Any] = []
        for item, cfg in zip(inputs, _configs(config, len(inputs)), strict=True):
            try:
                out.append(await self.ainvoke(item, cfg, **kwargs))
            except Exception as error:
                if not return_exceptions:
                    raise
                out.append(error)
        return out

    async def _adurable_stream(self, input: Any, run: _Run) -> AsyncIterator[Any]:
        graph, cfg = run.graph, run.cfg
        meta = await asyncio.to_thread(run.saver.latest_metadata, cfg)
        if meta is None and run.recorder.call == 1 and await asyncio.to_thread(self._fork, run):
            meta = await asyncio.to_thread(run.saver.latest_metadata, cfg)
        check = lambda: graph.get_state(cfg).next  # noqa: E731 - read in a worker thread
        await asyncio.to_thread(check_thread_free, run.recorder, meta, check)
        command: Any = input
        snap: StateSnapshot | None = None
        latest = run.recorder.position(meta) if meta is not None else None
        if latest is not None:
            if latest > run.recorder.call:
                run.recorder.replay()
                history = graph.aget_state_history(cfg, filter=run.call_filter)
                run.values = _values_of([s async for s in history])
                return
            if latest == run.recorder.call:
                snap = await graph.aget_state(cfg)
                run.recorder.replay()
                run.recorder.reconcile([s async for s in graph.aget_state_history(cfg)])
                command = await asyncio.to_thread(self._next_input, run, snap)
        while True:
            run.interrupted = False
            stream = graph.astream(command, cfg, stream_mode=run.internal_modes, **run.kwargs)
            async for chunk in stream:
                show, item = run.track(chunk)
                if show:
                    yield item
            run.record_finished(all=True)
            if run.settled():
                return
            before, snap = snap, await graph.aget_state(cfg)
            if run.done(before, snap):
                return
            command = await asyncio.to_thread(self._next_input, run, snap)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """``graph.ainvoke``; durable in a flow body (returns the final state values)."""
        if not in_flow() or in_checkpoint():
            return await self.graph.ainvoke(input, config, **kwargs)
        kwargs.pop("stream_mode", None)
        run = self._run(input, config, [], True, kwargs)
        async for _ in self._adurable_stream(input, run):
            pass
        return run.values

    async def astream(
        self, input: Any, config: Any = None, *, stream_mode: Any = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """``graph.astream``; durable in a flow body."""
        if not in_flow() or in_checkpoint():
            async for item in self.graph.astream(input, config, stream_mode=stream_mode, **kwargs):
                yield item
            return
        single = not isinstance(stream_mode, list)
        modes = [stream_mode or self.graph.stream_mode] if single else list(stream_mode)
        run = self._run(input, config, modes, single, kwargs)
        async for item in self._adurable_stream(input, run):
            yield item


#: Entry points of a compiled graph that would run it without durability inside a flow body.
_NOT_DURABLE = frozenset(
    {
        "abatch_as_completed",
        "astream_events",
        "astream_log",
        "atransform",
        "batch_as_completed",
        "stream_events",
        "transform",
    }
)
_SUPPORTED = "invoke, ainvoke, stream, astream, batch and abatch"


def _refused(attr: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise KitaruUsageError(
            f"graph.{attr}() does not run durably inside a flow: a wrapped graph runs durably "
            f"through {_SUPPORTED} only. Call one of those in the flow body (or call "
            f"{attr}() inside a @checkpoint, where the graph runs as a plain graph)."
        )

    return refuse


def _configs(config: Any, n: int) -> list[Any]:
    """One config per input, as ``Runnable.batch`` takes them (one for all, or a list)."""
    if isinstance(config, list | tuple):
        if len(config) != n:
            raise ValueError(f"batch() got {len(config)} configs for {n} inputs.")
        return list(config)
    return [config] * n


def _check_overrides(
    graph: Any, saver: KitaruCheckpointSaver, plan: dict[str, Any], source: Source
) -> None:
    """Refuse, before the replayed graph runs anything, an override of this thread that
    cannot be applied: one of a subgraph's node (overrides apply to the outer graph's nodes;
    it would be shown as applied and dropped), or one that is not a state update of the
    graph (see :func:`check_override`)."""
    from kitaru.durable import payload_from_json

    overrides = plan.get("overrides") or {}
    for doc in source.docs:
        invocation_id, node = doc.value["invocation_id"], doc.value["node"]
        if invocation_id not in overrides:
            continue
        if ":" in node:
            outer = node.split(":", 1)[0]
            raise KitaruUsageError(
                f"Cannot override 'checkpoint.{invocation_id}': it is a node of a subgraph, "
                f"and overrides apply to the outer graph's nodes only. Override the outer "
                f"node that runs the subgraph ('checkpoint.{outer}') with the update it "
                "returns, or replay from it."
            )
        check_override(
            graph, node, saver.runtime.decode(payload_from_json(overrides[invocation_id]))
        )


def wrap(
    graph: Pregel, *, name: str | None = None, wait_timeout: float | None = 600
) -> KitaruGraph:
    """Make a compiled graph durable inside ``@flow`` bodies (unchanged outside them).

    Args:
        graph: a compiled graph (``StateGraph(...).compile()`` or an ``@entrypoint``); its own
            checkpointer is used outside flows, and replaced by the journal inside them unless
            it already is a :class:`KitaruCheckpointSaver`.
        name: a display name (default the graph's name).
        wait_timeout: how long ``wait()`` for an ``interrupt()`` listens before the execution
            is left waiting with no process held.
    """
    from langgraph.graph.state import StateGraph

    if isinstance(graph, StateGraph):
        raise KitaruUsageError(
            "klg.wrap() needs a compiled graph, got the StateGraph builder: compile it first: "
            "klg.wrap(builder.compile(...))."
        )
    if not isinstance(graph, Pregel):
        raise KitaruUsageError(
            "klg.wrap() needs a compiled LangGraph graph (StateGraph(...).compile() or an "
            f"@entrypoint), got {type(graph).__name__} {graph!r}."
        )
    try:
        kitaru.durable.check_wait_args(timeout=wait_timeout, what="klg.wrap")
    except KitaruUsageError as error:  # the same rule as wait(timeout=...), our name for it
        raise KitaruUsageError(
            str(error).replace("klg.wrap(timeout=", "klg.wrap(wait_timeout=")
        ) from None
    return KitaruGraph(graph, name=name, wait_timeout=wait_timeout)
