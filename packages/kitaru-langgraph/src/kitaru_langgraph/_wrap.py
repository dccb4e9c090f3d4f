"""``klg.wrap(graph)``: run a compiled LangGraph graph durably inside a ``@flow``.

Inside the flow body each call of ``invoke/ainvoke/stream/astream`` gets a LangGraph *thread*
owned by the execution (``<exec_id>`` for the first call, ``<exec_id>:<n>`` for the n-th) and
runs on a copy of the graph whose checkpointer is :class:`KitaruCheckpointSaver` with
``durability="sync"``, so each superstep's checkpoint is in the journal before the next node
starts. That checkpointer is what makes completed nodes not run again: when the flow body runs
again (retry after a crash, continuation after input), the call finds its thread and resumes it
(``graph.invoke(None)``), or re-reads the final state of a thread that already finished.

Each completed node is also *recorded* as a checkpoint call of type ``graph_node`` named after
the node (``<node>``, ``<node>_2``, ...), so it shows in ``Execution.checkpoints``; the node
itself runs in LangGraph's executor, not inside a Kitaru checkpoint.

``interrupt(value)`` in a node ends the graph run with a pending interrupt; the wrapper then
calls ``kitaru.wait()`` named after the node, which suspends the execution. When input
arrives the flow reruns, ``wait()`` returns the input and the graph resumes with
``Command(resume=input)``.

Outside a flow the wrapper calls the plain graph.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import kitaru
from kitaru.durable import in_checkpoint, in_flow, run_as_checkpoint
from kitaru.runtime import Runtime, current_runtime
from langgraph.pregel import Pregel
from langgraph.types import Command, StateSnapshot

from kitaru_langgraph._fork import NODES_NAMESPACE, fork_for_replay
from kitaru_langgraph._saver import KitaruCheckpointSaver, _q

__all__ = ["KitaruGraph", "wrap"]

WAITS_NAMESPACE = "langgraph.waits"
_THREAD_COUNTER = "langgraph-thread"


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


def _question(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("question"), str):
        return value["question"]
    return None


class KitaruGraph:
    """A compiled LangGraph graph that runs durably inside a ``@flow`` (see :func:`wrap`).

    Every attribute other than the four run methods is the wrapped graph's.
    """

    def __init__(
        self, graph: Pregel, *, name: str | None = None, wait_timeout: float | None = 600
    ) -> None:
        self.graph = graph
        self.name = name or graph.name or "graph"
        self.wait_timeout = wait_timeout
        self._copies: dict[int, tuple[Runtime, Pregel]] = {}

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.graph, attr)

    def __repr__(self) -> str:
        return f"KitaruGraph({self.name!r})"

    # -- the durable copy, the thread, the node calls ------------------------------------------

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

    def _config(self, config: Any) -> Any:
        cfg = dict(config or {})
        configurable = dict(cfg.get("configurable") or {})
        if "thread_id" not in configurable:
            exec_id = kitaru.durable.current_exec_id()
            n = kitaru.durable.next_run_number(_THREAD_COUNTER)
            configurable["thread_id"] = exec_id if n == 1 else f"{exec_id}:{n}"
        cfg["configurable"] = configurable
        return cfg

    @staticmethod
    def _fork(graph: Any, saver: KitaruCheckpointSaver, cfg: Any) -> bool:
        plan = kitaru.durable.replay_plan() if kitaru.durable.in_flow() else None
        if not plan:
            return False
        exec_id = kitaru.durable.current_exec_id()
        assert exec_id is not None
        return fork_for_replay(graph, saver, cfg, plan, exec_id)

    @staticmethod
    def _replay_nodes(backend: Any, thread_id: str) -> int:
        """Re-record (without running anything) the node calls this thread already made, in
        order, so the flow body's checkpoint sequence matches the journal; return how many."""
        exec_id = kitaru.durable.current_exec_id()
        docs = backend.list_documents(NODES_NAMESPACE, prefix=f"{exec_id}/{_q(thread_id)}/")
        for doc in docs:
            summary = doc.value["summary"]
            run_as_checkpoint(
                lambda s=summary: s,  # type: ignore[misc]
                name=doc.value["node"],
                invocation_id=doc.value["invocation_id"],
                type="graph_node",
            )
        return len(docs)

    @staticmethod
    def _record_node(backend: Any, node: str, update: Any, thread_id: str, seq: int) -> None:
        from kitaru.backend import DocumentRecord

        taken = kitaru.durable.used_invocation_ids()
        exec_id = kitaru.durable.current_exec_id()
        n = 1
        while (invocation_id := node if n == 1 else f"{node}_{n}") in taken:
            n += 1
        summary = {"node": node, "thread_id": thread_id, "update": _json_safe(update)}
        # The node list is written first: a crash between the two writes leaves a listed call
        # that the next run records, never a recorded call that the next run cannot replay.
        backend.put_documents(
            [
                DocumentRecord(
                    namespace=NODES_NAMESPACE,
                    key=f"{exec_id}/{_q(thread_id)}/{seq:08d}",
                    value={"node": node, "invocation_id": invocation_id, "summary": summary},
                    exec_id=exec_id,
                    created_at=datetime.now(UTC),
                )
            ]
        )
        run_as_checkpoint(
            lambda: summary, name=node, invocation_id=invocation_id, type="graph_node"
        )

    def _track(
        self, chunk: Any, modes: list[str], single: bool, thread_id: str, sink: dict[str, Any]
    ) -> tuple[bool, Any]:
        backend = sink["backend"]
        """Record nodes from an ``updates`` chunk; say whether (and what) to hand the user."""
        if len(chunk) == 3:  # subgraphs=True: (namespace, mode, data)
            ns, mode, data = chunk
        else:
            ns, (mode, data) = (), chunk
        if mode == "updates" and not ns and isinstance(data, dict):
            for node, update in data.items():
                if not node.startswith("__"):
                    self._record_node(backend, node, update, thread_id, sink["seq"])
                    sink["seq"] += 1
        if mode == "values" and not ns:
            sink["values"] = data
        if mode not in modes:
            return False, None
        if single:
            return True, (ns, data) if len(chunk) == 3 else data
        return True, chunk

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
                    doc_value = {"node": task.name, "wait": wait_name}
                    from kitaru.backend import DocumentRecord

                    backend.put_documents(
                        [
                            DocumentRecord(
                                namespace=WAITS_NAMESPACE,
                                key=key,
                                value=doc_value,
                                exec_id=exec_id,
                                created_at=datetime.now(UTC),
                            )
                        ]
                    )
                else:
                    wait_name = doc.value["wait"]
                answers[intr.id] = kitaru.wait(
                    name=wait_name,
                    question=_question(intr.value),
                    metadata={
                        "interrupt": _json_safe(intr.value),
                        "interrupt_id": intr.id,
                        "node": task.name,
                        "thread_id": cfg["thread_id"],
                    },
                    timeout=self.wait_timeout,
                )
        if len(answers) == 1:
            return Command(resume=next(iter(answers.values())))
        return Command(resume=answers)

    # -- sync --------------------------------------------------------------------------------

    def _durable_stream(
        self,
        input: Any,
        config: Any,
        modes: list[str],
        single: bool,
        sink: dict[str, Any],
        kwargs: dict[str, Any],
    ) -> Iterator[Any]:
        graph, saver = self._durable()
        cfg = self._config(config)
        thread_id = cfg["configurable"]["thread_id"]
        kwargs = {**kwargs, "durability": "sync"}
        internal = sorted(set(modes) | {"updates", "values"})
        snap = graph.get_state(cfg)
        if snap.created_at is None and self._fork(graph, saver, cfg):
            snap = graph.get_state(cfg)
        sink["backend"] = saver.runtime.backend
        sink["seq"] = (
            0 if snap.created_at is None else self._replay_nodes(saver.runtime.backend, thread_id)
        )
        run: Any = input if snap.created_at is None else None
        while True:
            if snap.created_at is not None and snap.interrupts:
                run = self._answers(saver, snap)
            for chunk in graph.stream(run, cfg, stream_mode=internal, **kwargs):
                show, item = self._track(chunk, modes, single, thread_id, sink)
                if show:
                    yield item
            snap = graph.get_state(cfg)
            if not snap.interrupts:
                return

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """``graph.invoke``; durable in a flow body (returns the final state values)."""
        if not in_flow() or in_checkpoint():
            return self.graph.invoke(input, config, **kwargs)
        kwargs.pop("stream_mode", None)
        sink: dict[str, Any] = {}
        for _ in self._durable_stream(input, config, [], True, sink, kwargs):
            pass
        return sink.get("values")

    def stream(
        self, input: Any, config: Any = None, *, stream_mode: Any = None, **kwargs: Any
    ) -> Iterator[Any]:
        """``graph.stream``; durable in a flow body."""
        if not in_flow() or in_checkpoint():
            yield from self.graph.stream(input, config, stream_mode=stream_mode, **kwargs)
            return
        single = not isinstance(stream_mode, list)
        modes = [stream_mode or self.graph.stream_mode] if single else list(stream_mode)
        yield from self._durable_stream(input, config, modes, single, {}, kwargs)

    # -- async -------------------------------------------------------------------------------

    async def _adurable_stream(
        self,
        input: Any,
        config: Any,
        modes: list[str],
        single: bool,
        sink: dict[str, Any],
        kwargs: dict[str, Any],
    ) -> AsyncIterator[Any]:
        graph, saver = self._durable()
        cfg = self._config(config)
        thread_id = cfg["configurable"]["thread_id"]
        kwargs = {**kwargs, "durability": "sync"}
        internal = sorted(set(modes) | {"updates", "values"})
        snap = await graph.aget_state(cfg)
        if snap.created_at is None and await asyncio.to_thread(self._fork, graph, saver, cfg):
            snap = await graph.aget_state(cfg)
        sink["backend"] = saver.runtime.backend
        sink["seq"] = (
            0 if snap.created_at is None else self._replay_nodes(saver.runtime.backend, thread_id)
        )
        run: Any = input if snap.created_at is None else None
        while True:
            if snap.created_at is not None and snap.interrupts:
                run = await asyncio.to_thread(self._answers, saver, snap)
            async for chunk in graph.astream(run, cfg, stream_mode=internal, **kwargs):
                show, item = self._track(chunk, modes, single, thread_id, sink)
                if show:
                    yield item
            snap = await graph.aget_state(cfg)
            if not snap.interrupts:
                return

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """``graph.ainvoke``; durable in a flow body (returns the final state values)."""
        if not in_flow() or in_checkpoint():
            return await self.graph.ainvoke(input, config, **kwargs)
        kwargs.pop("stream_mode", None)
        sink: dict[str, Any] = {}
        async for _ in self._adurable_stream(input, config, [], True, sink, kwargs):
            pass
        return sink.get("values")

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
        async for item in self._adurable_stream(input, config, modes, single, {}, kwargs):
            yield item


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
    return KitaruGraph(graph, name=name, wait_timeout=wait_timeout)
