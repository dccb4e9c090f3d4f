"""What the type checker accepts and rejects (checked by mypy --strict in tests/meta).

``# type: ignore[...]`` marks a line that MUST be an error: with warn_unused_ignores, a line
that stops being an error fails the check.
"""

from typing import assert_type

from kitaru import FlowHandle, checkpoint, flow, wait
from kitaru.client import Execution, ExecutionStatus, KitaruClient


@checkpoint
def add(a: int, b: int) -> int:
    return a + b


@checkpoint(retries=2, type="tool_call")
def greet(name: str) -> str:
    return f"hi {name}"


@flow
def agent(x: int) -> str:
    total = add(x, 1)
    assert_type(total, int)
    future = add.submit(1, 2)
    assert_type(future.result(), int)
    answer = wait(schema=bool, name="ok")
    add("one", 2)  # type: ignore[arg-type]
    return greet(str(total + int(bool(answer))))


handle = agent.run(1)
assert_type(handle, FlowHandle)
assert_type(handle.status, ExecutionStatus)
agent.run("not an int")  # type: ignore[arg-type]
execution = KitaruClient().executions.get(handle.exec_id)
assert_type(execution, Execution)
assert_type(execution.status.is_finished, bool)
