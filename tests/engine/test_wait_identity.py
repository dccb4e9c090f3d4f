"""Waits asked for inside parallel checkpoint calls keep their names across restarts: the
answer given to a wait goes back to the call that asked it, whatever order the calls reach
their waits in when the execution continues."""

from __future__ import annotations

import threading
import time

from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru.durable import flow_wait
from kitaru.runtime import Runtime

SEGMENTS: list[int] = []
STARTED = threading.Barrier(2)


@checkpoint(cache=False)
def ask(who: str) -> str:
    # First segment: A asks before B. Later segments: B asks first.
    slow = "B" if len(SEGMENTS) <= 1 else "A"
    if len(SEGMENTS) <= 1:
        STARTED.wait(timeout=10)  # both calls run before either suspends the flow
    if who == slow:
        time.sleep(0.3)
    answer = flow_wait(
        name="ask", schema=bool, question=f"ok for {who}?", timeout=0, metadata={"who": who}
    )
    return f"{who} got {answer}"


@flow
def both() -> list[str]:
    SEGMENTS.append(1)
    return [f.result() for f in ask.map(["A", "B"])]


def _waiting(runtime: Runtime, exec_id: str) -> None:
    deadline = time.monotonic() + 20
    while runtime.backend.get_execution(exec_id).state.value != "waiting":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_answers_reach_the_calls_that_asked(memory_runtime: Runtime) -> None:
    SEGMENTS.clear()
    STARTED.reset()
    client = KitaruClient()
    handle = both.run()
    _waiting(memory_runtime, handle.exec_id)
    waits = {w.name: w.metadata["who"] for w in client.executions.pending_waits(handle.exec_id)}
    assert waits == {"ask": "A", "ask_2": "B"}
    client.executions.input(handle.exec_id, wait="ask", value=True)  # B's is still open
    client.executions.input(handle.exec_id, wait="ask_2", value=False)
    # The body runs again, and now B reaches its wait first.
    assert FlowHandle(handle.exec_id).wait(timeout=30) == ["A got True", "B got False"]
    assert len(SEGMENTS) == 2
    waits = client.executions.get(handle.exec_id).waits
    # No wait was created twice under a new name; answered waits keep what they asked.
    assert {w.name: (w.metadata["who"], w.value) for w in waits} == {
        "ask": ("A", True),
        "ask_2": ("B", False),
    }
    assert all(w.schema == {"type": "boolean"} for w in waits)


@checkpoint
def review(draft: str) -> str:
    ok = flow_wait(name="review", schema=bool, question=f"Publish {draft}?", timeout=0)
    return f"{draft}: {'published' if ok else 'held'}"


@flow
def two_reviews() -> list[str]:
    return [review("first"), review("second")]


def test_a_replay_asks_its_waits_under_the_source_names(memory_runtime: Runtime) -> None:
    client = KitaruClient()
    handle = two_reviews.run()
    for name, value in (("review", True), ("review_2", False)):
        _waiting(memory_runtime, handle.exec_id)
        client.executions.input(handle.exec_id, wait=name, value=value)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == ["first: published", "second: held"]
    # From the second call: the first is reused and asks nothing; the second asks again, as
    # review_2 (its name in the source), not as the first free name.
    replayed = client.executions.replay(handle.exec_id, from_="review_2")
    _waiting(memory_runtime, replayed.exec_id)
    (pending,) = client.executions.pending_waits(replayed.exec_id)
    assert (pending.name, pending.question) == ("review_2", "Publish second?")
    client.executions.input(replayed.exec_id, wait="review_2", value=True)
    assert FlowHandle(replayed.exec_id).wait(timeout=30) == [
        "first: published",
        "second: published",
    ]


@checkpoint
def approve(amount: int) -> str:  # cached by default: same code, same arguments
    ok = flow_wait(name="approve", schema=bool, question=f"Refund {amount}?", timeout=0)
    return f"refund {amount}: {ok}"


@flow
def refund(amount: int) -> str:
    return approve(amount)


def test_an_answer_is_never_reused_by_another_execution(memory_runtime: Runtime) -> None:
    client = KitaruClient()
    first = refund.run(40)
    _waiting(memory_runtime, first.exec_id)
    client.executions.input(first.exec_id, wait="approve", value=True)
    assert FlowHandle(first.exec_id).wait(timeout=30) == "refund 40: True"
    # Same code, same arguments: a cached checkpoint would return the first approval.
    second = refund.run(40)
    _waiting(memory_runtime, second.exec_id)
    client.executions.input(second.exec_id, wait="approve", value=False)
    assert FlowHandle(second.exec_id).wait(timeout=30) == "refund 40: False"
    (call,) = client.executions.get(second.exec_id).checkpoints
    assert call.cached_from is None
