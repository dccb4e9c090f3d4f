"""Streamed model requests inside a checkpoint: the ``<event>_stream_transcript`` artifact
(``event_count``, ``duration_ms``, ``events``, ``final_response``) and ``stream_event_count``
in the event's metadata, with ``run_stream`` (FunctionModel) and with an
``event_stream_handler`` (TestModel); a replayed streamed request is neither sent nor
transcribed again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import kitaru_pydantic_ai as kp
import pytest
from kitaru import KitaruClient, checkpoint, flow
from kitaru.runtime import Runtime
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

STREAMED: list[int] = []
SEEN: list[str] = []
ATTEMPTS: list[int] = []


def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart("not streamed")])


async def stream_reply(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    STREAMED.append(1)
    for chunk in ("hello ", "stream", "ed"):
        yield chunk


teller = kp.wrap(Agent(FunctionModel(reply, stream_function=stream_reply), name="teller"))
tester = kp.wrap(Agent(TestModel(custom_output_text="from the test model"), name="tester"))


async def handler(ctx: Any, events: Any) -> None:
    async for event in events:
        SEEN.append(event.event_kind)


@pytest.fixture(autouse=True)
def _reset() -> None:
    STREAMED.clear()
    SEEN.clear()
    ATTEMPTS.clear()


@checkpoint(retries=1)
def tell(fail_once: bool) -> str:
    async def main() -> str:
        async with teller.run_stream("hi") as result:
            return await result.get_output()

    output = asyncio.run(main())
    ATTEMPTS.append(1)
    if fail_once and len(ATTEMPTS) == 1:
        raise RuntimeError("after the stream")
    return output


@flow
def telling(fail_once: bool) -> str:
    return tell(fail_once)


@flow
def handled() -> str:
    return str(tester.run_sync("go", event_stream_handler=handler).output)


def _llm_event(exec_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    execution = KitaruClient().executions.get(exec_id)
    (call,) = execution.checkpoints
    ((event_id, event),) = call.metadata["pydantic_ai_events"].items()
    artifacts = {a.name: a for a in execution.artifacts}
    return event_id, event, artifacts


def test_run_stream_saves_a_stream_transcript(memory_runtime: Runtime) -> None:
    handle = telling.run(False)
    assert handle.wait(timeout=30) == "hello streamed"
    event_id, event, artifacts = _llm_event(handle.exec_id)
    name = f"{event_id}_stream_transcript"
    assert event["streaming"] is True and name in event["artifacts"]
    transcript = artifacts[name]
    assert transcript.kind == "context"
    value = transcript.load()
    assert set(value) == {"event_count", "duration_ms", "events", "final_response"}
    kinds = [e["event_kind"] for e in value["events"]]
    assert kinds[0] == "part_start" and "part_delta" in kinds and kinds[-1] == "part_end"
    assert value["event_count"] == len(value["events"]) == event["stream_event_count"]
    assert value["duration_ms"] >= 0
    assert value["final_response"] == artifacts[f"{event_id}_response"].load()
    assert value["final_response"]["parts"][0]["content"] == "hello streamed"


def test_a_replayed_streamed_request_is_not_sent_or_transcribed_again(
    memory_runtime: Runtime,
) -> None:
    handle = telling.run(True)  # the first attempt fails after its streamed request
    assert handle.wait(timeout=30) == "hello streamed"
    assert STREAMED == [1] and ATTEMPTS == [1, 1]
    event_id, event, artifacts = _llm_event(handle.exec_id)
    assert event["replayed"] is True
    assert f"{event_id}_stream_transcript" in event["artifacts"]
    # The failed attempt's record of the same event (the run kept its label) is merged in.
    assert (
        event["stream_event_count"]
        == artifacts[f"{event_id}_stream_transcript"].load()["event_count"]
    )
    names = [a.name for a in KitaruClient().executions.get(handle.exec_id).artifacts]
    assert names.count(f"{event_id}_stream_transcript") == 1  # saved by the first attempt


def test_a_run_with_an_event_stream_handler_is_transcribed(memory_runtime: Runtime) -> None:
    handle = handled.run()
    assert handle.wait(timeout=30) == "from the test model"
    assert SEEN[0] == "part_start" and "part_end" in SEEN  # the run's handler still ran
    event_id, event, artifacts = _llm_event(handle.exec_id)
    value = artifacts[f"{event_id}_stream_transcript"].load()
    recorded = [e["event_kind"] for e in value["events"]]
    # The transcript holds the live model stream, deltas included (TestModel streams words).
    assert recorded[0] == "part_start" and recorded[-1] == "part_end"
    assert "part_delta" in recorded
    assert event["stream_event_count"] == value["event_count"] == len(recorded)
