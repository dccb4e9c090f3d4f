"""Flows used by the engine tests (importable, so detached workers can re-import them)."""

from __future__ import annotations

from pathlib import Path

import kitaru
from kitaru import checkpoint, flow, wait
from pydantic import BaseModel

CALLS: list[str] = []


@checkpoint
def add(a: int, b: int) -> int:
    CALLS.append(f"add({a},{b})")
    print(f"adding {a} and {b}")
    return a + b


@checkpoint
def double(x: int) -> int:
    CALLS.append(f"double({x})")
    return 2 * x


@flow
def arithmetic(x: int) -> int:
    y = add(x, 1)
    z = add(y, 2)
    return double(z)


@flow
def with_wait(x: int, timeout: float = 5) -> int:
    y = add(x, 1)
    extra = wait(name="extra", schema=int, question="How much more?", timeout=timeout)
    return double(y + extra)


@checkpoint
def touch(folder: str, name: str) -> str:
    marker = Path(folder) / name
    with marker.open("a") as f:
        f.write("x")
    return name


@flow
def research_flow(topic: str) -> str:
    notes = research(topic)
    draft = write_draft(notes)
    return publish(draft)


@checkpoint
def research(topic: str) -> str:
    return f"notes for {topic}"


@checkpoint
def write_draft(notes: str) -> str:
    return f"Draft from {notes}"


@checkpoint
def publish(draft: str) -> str:
    return f"PUBLISHED: {draft}"


@flow
def logging_flow() -> str:
    kitaru.log(cost={"usd": 0.001})
    kitaru.log(cost={"tokens": 42}, model="a")
    kitaru.log(model="b")
    return tagged()


@checkpoint
def tagged() -> str:
    kitaru.log(step={"a": 1})
    kitaru.log(step={"b": 2})
    kitaru.save("context_blob", {"k": "v"}, type="context", tags=["t"])
    return "ok"


@checkpoint
def inserted_step() -> str:
    return "new"


@flow
def evolving(timeout: float = 0.2) -> str:
    import os

    if os.environ.get("KITARU_TEST_INSERT_STEP"):
        inserted_step()
    first = add(1, 1)
    answer = wait(name="go", schema=bool, timeout=timeout)
    return f"{first}:{answer}"


@checkpoint
def slow_step(i: int) -> int:
    import time

    time.sleep(0.2)
    return i


@flow
def long_flow(n: int) -> int:
    return sum(slow_step(i) for i in range(n))


@checkpoint
def ask_inside() -> str:
    return str(wait(name="answer", schema=str))  # a usage error: wait() in a checkpoint


@checkpoint
def use_answer(answer: str) -> str:
    return f"used {answer}"


@flow
def fixable(timeout: float = 0.2) -> str:
    """Calls wait() inside a checkpoint, unless ``KITARU_TEST_FIXED`` is set: then the fixed
    code calls it in the flow body and hands the answer to another checkpoint."""
    import os

    first = add(1, 1)
    if not os.environ.get("KITARU_TEST_FIXED"):
        return f"{first}:{ask_inside()}"
    answer = wait(name="answer", schema=str, timeout=timeout)
    return f"{first}:{use_answer(answer)}"


class Plan(BaseModel):
    steps: int


@checkpoint
def plan(n: int) -> Plan:
    return Plan(steps=n)


@checkpoint
def count(n: int) -> int:
    return n + 1


@checkpoint
def use_plan(plan: Plan, total: int) -> str:
    assert isinstance(plan, Plan), type(plan)  # a model, also when overridden with JSON
    return f"{plan.steps} steps, total {total}"


@flow
def planned(n: int) -> str:
    return use_plan(plan(n), count(n))


FAIL_ONCE_TRIES: list[int] = []


@flow
def fails_once() -> str:
    FAIL_ONCE_TRIES.append(1)
    if len(FAIL_ONCE_TRIES) == 1:
        raise RuntimeError("first try fails")
    return "ok"
