"""Tracking of one agent run inside a checkpoint: child events, lineage, artifacts, summary.

The tracker only observes. Journaling and replay are :mod:`kitaru_pydantic_ai._engine`'s job;
it tells the tracker for each event whether the body ran or its result was replayed. Events
and the run summary are merged into the checkpoint's metadata (``pydantic_ai_events``,
``pydantic_ai_run_summaries``, ``pydantic_ai_event_stream_handlers``) when the run ends.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import kitaru
from kitaru.durable import save_json

from kitaru_pydantic_ai._capture import CapturePolicy, ResolvedCapture

__all__ = ["PendingEvent", "RunTracker", "tracked_handler"]


@dataclass
class PendingEvent:
    """An event that started and has not ended yet."""

    event_id: str
    type: str  # "llm_call" | "tool_call"
    capture: ResolvedCapture
    record: dict[str, Any]
    inputs: Any = None  # the prompt messages, or the tool arguments
    started: float = field(default_factory=time.perf_counter)
    #: A streamed model request's events as they arrived (JSON), while it runs live.
    stream: list[Any] | None = None
    stream_ms: float = 0.0


class RunTracker:
    """Event ids ``<agent>_<run_label>_<llm_call|tool_call>_<n>`` and their lineage.

    A model event fans in the tool events completed since the previous model event; a tool
    event fans out from the latest completed model event. The turn index counts model requests.

    Calls whose capture is ``off`` get no event (so no id, and no place in another event's
    lineage) but are counted: the summary's ``model_call_count`` / ``tool_call_count`` count
    every request and call, ``total_events`` the events recorded, and a model event's
    ``uncaptured_fan_in_count`` the uncaptured tool calls its ``fan_in_from`` leaves out.
    """

    def __init__(self, *, agent_name: str, run_label: str, policy: CapturePolicy) -> None:
        self.agent_name = agent_name
        self.run_label = run_label
        self.policy = policy
        self.events: dict[str, dict[str, Any]] = {}
        self.handlers: dict[str, dict[str, Any]] = {}
        self._counts = {"llm_call": 0, "tool_call": 0, "event_stream_handler": 0}
        #: Every model request / tool call made, captured or not.
        self._calls = {"llm_call": 0, "tool_call": 0}
        self._uncaptured = {"llm_call": 0, "tool_call": 0}
        self._uncaptured_tools_since_model = 0
        self._sequence = 0
        self._turn = 0
        self._last_model: str | None = None
        self._tools_since_model: list[str] = []
        self._started = time.perf_counter()
        self._handler_ms = 0.0
        self.status = "running"
        self.error: dict[str, str] | None = None

    def _next_id(self, kind: str) -> str:
        self._counts[kind] += 1
        return f"{self.agent_name}_{self.run_label}_{kind}_{self._counts[kind]}"

    # -- starting events -------------------------------------------------------------------

    def model_started(
        self, *, model_name: str | None, streaming: bool, prompt: Any
    ) -> PendingEvent | None:
        """A model request begins (``prompt`` is its message list); ``None`` when the model
        capture mode is ``off`` (the request is still counted)."""
        self._turn += 1
        self._calls["llm_call"] += 1
        uncaptured_tools, self._uncaptured_tools_since_model = (
            self._uncaptured_tools_since_model,
            0,
        )
        capture = self.policy.model
        if not capture.enabled:
            self._uncaptured["llm_call"] += 1
            return None
        event_id = self._next_id("llm_call")
        record: dict[str, Any] = {
            "type": "llm_call",
            "status": "running",
            "turn_index": self._turn,
            "parent_event_ids": list(self._tools_since_model)
            or ([self._last_model] if self._last_model else []),
            "fan_in_from": list(self._tools_since_model),
            "model_name": model_name,
            "capture_mode": capture.mode,
        }
        if uncaptured_tools:
            record["uncaptured_fan_in_count"] = uncaptured_tools
        if streaming:
            record["streaming"] = True
        return PendingEvent(event_id, "llm_call", capture, record, inputs=prompt)

    def tool_started(
        self,
        *,
        tool_name: str,
        toolset_kind: str,
        tool_call_id: str | None,
        args: Any,
        hitl: bool,
    ) -> PendingEvent | None:
        """A tool call begins; ``None`` when its capture mode is ``off`` (the call is still
        counted)."""
        self._calls["tool_call"] += 1
        capture = self.policy.for_tool(tool_name)
        if not capture.enabled:
            self._uncaptured["tool_call"] += 1
            self._uncaptured_tools_since_model += 1
            return None
        event_id = self._next_id("tool_call")
        parents = [self._last_model] if self._last_model else []
        record: dict[str, Any] = {
            "type": "tool_call",
            "status": "running",
            "turn_index": self._turn,
            "parent_event_ids": parents,
            "fan_out_from": self._last_model,
            "tool_name": tool_name,
            "tool_call_id": tool_call_id,
            "toolset_kind": toolset_kind,
            "hitl": hitl,
            "capture_mode": capture.mode,
        }
        return PendingEvent(event_id, "tool_call", capture, record, inputs=args)

    # -- ending events ---------------------------------------------------------------------

    def _close(self, event: PendingEvent, status: str) -> dict[str, Any]:
        record = event.record
        record["status"] = status
        record["sequence_index"] = self._sequence
        self._sequence += 1
        if event.capture.include_timings:
            record["duration_ms"] = round((time.perf_counter() - event.started) * 1000, 3)
        self.events[event.event_id] = record
        if event.type == "llm_call":
            self._last_model = event.event_id
            self._tools_since_model = []
        else:
            self._tools_since_model.append(event.event_id)
        return record

    def finished(
        self,
        event: PendingEvent,
        payload: Any,
        *,
        replayed: bool,
        prompt_json: Any = None,
        response_saved: bool = False,
    ) -> None:
        """The event completed with ``payload`` (journal JSON); save its artifacts.
        ``prompt_json``: the prompt's JSON text (bytes) or JSON-able form;
        ``response_saved``: the journal saves the response artifact with the event."""
        record = self._close(event, "completed")
        record["replayed"] = replayed
        kind = payload.get("kind") if isinstance(payload, dict) else None
        if event.type == "tool_call" and kind not in (None, "tool_return", "tool_content_result"):
            # ModelRetry, ToolFailed, a validation error, ...: recorded like a result
            record["status"] = "failed"
            record["error"] = {"type": kind, "message": str(payload.get("message", ""))[:2000]}
        if event.type == "llm_call":
            usage = payload.get("usage") if isinstance(payload, dict) else None
            if isinstance(usage, dict):
                inp = int(usage.get("input_tokens") or 0)
                out = int(usage.get("output_tokens") or 0)
                record["usage"] = {
                    "input_tokens": inp,
                    "output_tokens": out,
                    "total_tokens": inp + out,
                }
            if isinstance(payload, dict) and payload.get("model_name"):
                record["model_name"] = payload["model_name"]
            names, values, kinds = {}, {}, {}
            if event.capture.save_args:
                names["prompt"] = f"{event.event_id}_prompt"
                values["prompt"] = prompt_json
                kinds["prompt"] = "prompt"
            if event.capture.save_result:
                names["response"] = f"{event.event_id}_response"
                if not response_saved:
                    values["response"] = payload
                    kinds["response"] = "response"
            if record.get("streaming"):
                if event.stream is not None:
                    record["stream_event_count"] = len(event.stream)
                if event.capture.save_result:
                    names["transcript"] = f"{event.event_id}_stream_transcript"
                    values["transcript"] = {
                        "event_count": len(event.stream or ()),
                        "duration_ms": round(event.stream_ms, 3),
                        "events": event.stream or [],
                        "final_response": payload,
                    }
                    kinds["transcript"] = "context"
        else:
            names, values, kinds = {}, {}, {}
            if event.capture.save_args:
                names["args"] = f"{event.event_id}_args"
                values["args"] = event.inputs
                kinds["args"] = "input"
            if event.capture.save_result:
                names["result"] = f"{event.event_id}_result"
                values["result"] = _tool_result(payload)
                kinds["result"] = "output"
        record["artifacts"] = list(names.values())
        if not replayed:  # a replayed event's artifacts were saved when it first ran
            for key, name in names.items():
                if key in values:
                    _save(name, values[key], kinds[key])

    def failed(self, event: PendingEvent, exc: BaseException) -> None:
        """The event raised ``exc``."""
        record = self._close(event, "failed")
        record["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000]}
        record["artifacts"] = []

    def handler_called(self, *, duration_ms: float, event_count: int, status: str) -> None:
        """One call of the run's event stream handler (once per model-request or tool node)."""
        self._counts["event_stream_handler"] += 1
        n = self._counts["event_stream_handler"]
        self._handler_ms += duration_ms
        key = f"{self.agent_name}_{self.run_label}_event_stream_handler_{n}"
        self.handlers[key] = {
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "stream_event_count": event_count,
            "turn_index": self._turn,
            "sequence_index": n - 1,
        }

    # -- the run ---------------------------------------------------------------------------

    def run_ended(self, exc: BaseException | None) -> None:
        """``exc``: what ended the run, if not its completion. An ``Exception`` failed it; any
        other ``BaseException`` (the execution suspending at a wait, a cancel, a lost lease)
        only stopped it: the run is ``suspended`` and continues when the body runs again."""
        if exc is None:
            self.status = "completed"
        elif isinstance(exc, Exception):
            self.status = "failed"
            self.error = {"type": type(exc).__name__, "message": str(exc)[:2000]}
        else:
            self.status = "suspended"

    def summary(self) -> dict[str, Any]:
        order = sorted(self.events, key=lambda k: self.events[k]["sequence_index"])
        out: dict[str, Any] = {
            "agent_name": self.agent_name,
            "run_label": self.run_label,
            "status": self.status,
            # Every request / call, captured or not; total_events: the events recorded.
            "model_call_count": self._calls["llm_call"],
            "tool_call_count": self._calls["tool_call"],
            "uncaptured_model_call_count": self._uncaptured["llm_call"],
            "uncaptured_tool_call_count": self._uncaptured["tool_call"],
            "total_events": len(self.events),
            "turn_count": self._turn,
            "event_ids_in_order": order,
            "duration_ms": round((time.perf_counter() - self._started) * 1000, 3),
        }
        if self.handlers:
            out["event_stream_handler"] = {
                "call_count": len(self.handlers),
                "duration_ms": round(self._handler_ms, 3),
            }
        if self.error is not None:
            out["error"] = self.error
        return out

    def flush(self) -> None:
        """Merge this run's events and summary into the checkpoint's metadata."""
        values: dict[str, Any] = {
            "pydantic_ai_events": self.events,
            "pydantic_ai_run_summaries": {self.run_label: self.summary()},
        }
        if self.handlers:
            values["pydantic_ai_event_stream_handlers"] = self.handlers
        kitaru.log(**values)


def tracked_handler(handler: Any) -> Any:
    """Wrap an event stream handler so each call is recorded by the active run's tracker."""
    from kitaru_pydantic_ai._engine import active_run

    async def tracked(ctx: Any, stream: AsyncIterable[Any]) -> None:
        run = active_run().get()
        if run is None:
            await handler(ctx, stream)
            return
        count = 0

        async def counted() -> AsyncIterator[Any]:
            nonlocal count
            async for item in stream:
                count += 1
                yield item

        started = time.perf_counter()
        status = "failed"
        try:
            await handler(ctx, counted())
            status = "completed"
        finally:
            run.tracker.handler_called(
                duration_ms=(time.perf_counter() - started) * 1000,
                event_count=count,
                status=status,
            )

    return tracked


def _tool_result(payload: Any) -> Any:
    """The tool's own return value inside the journaled call-tool payload."""
    if isinstance(payload, dict) and "result" in payload:
        return payload["result"]
    return payload


def _save(name: str, value: Any, kind: str) -> None:
    """Save an artifact; a value the serializers refuse is kept as a ``blob`` of its repr."""
    try:
        if isinstance(value, bytes):  # JSON text, already encoded
            save_json(name, value, type=kind)
            return
        kitaru.save(name, value, type=kind)
    except Exception:
        kitaru.save(name, repr(value), type="blob")
