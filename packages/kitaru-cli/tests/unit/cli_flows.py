"""Flows used by the CliRunner tests (importable, so the engine can re-import them)."""

from __future__ import annotations

import threading

import kitaru


@kitaru.checkpoint
def double(x: int) -> int:
    return x * 2


@kitaru.checkpoint
def explode(x: int) -> int:
    raise ValueError(f"boom {x}")


@kitaru.flow
def approve_flow(x: int) -> int:
    y = double(x)
    z = kitaru.wait(schema=int, name="approval", question="How much?", timeout=0)
    return y + z


@kitaru.flow
def failing_flow(x: int) -> int:
    return explode(x)


@kitaru.flow
def simple_flow(x: int) -> int:
    return double(x)


not_a_flow = 42


GATE = threading.Event()


@kitaru.checkpoint
def gated(x: int) -> int:
    GATE.wait(10)
    return x


@kitaru.flow
def gated_flow(x: int) -> int:
    return double(gated(x))


@kitaru.checkpoint
def asks_inside() -> int:
    return kitaru.wait(schema=int, name="inner")  # not allowed: a usage error


@kitaru.flow
def wait_in_checkpoint_flow() -> int:
    return asks_inside()


@kitaru.flow
def fan_flow(x: int) -> list[int]:
    return [f.result() for f in double.map([x, x + 1, x + 2])]


FLAKY_CALLS: list[int] = []


@kitaru.checkpoint(retries=1)
def flaky(x: int) -> int:
    FLAKY_CALLS.append(x)
    if len(FLAKY_CALLS) % 2 == 1:
        raise RuntimeError("first attempt fails")
    return x


@kitaru.flow
def flaky_flow(x: int) -> int:
    return flaky(x)


@kitaru.flow
def text_flow() -> str:
    return kitaru.wait(schema=str, name="note", question="Note?", timeout=0)


@kitaru.flow
def named_ids_flow(x: int) -> int:
    return double(x, id="left") + double(x, id="right")


@kitaru.flow
def complex_flow() -> complex:
    return complex(1, 2)


@kitaru.flow
def tool_asks_flow() -> str:
    """A wait with metadata, as an agent's hitl tool issues it."""
    return str(
        kitaru.wait(
            schema=bool,
            name="approve_refund",
            question="Answer?",
            metadata={"tool_name": "approve_refund", "tool_args": {"amount": 40}},
            timeout=0,
        )
    )


@kitaru.flow
def json_text_flow() -> dict[str, str]:
    """A result whose value is itself JSON text (shown as JSON, not as a Python repr)."""
    return {"a": '{"mult":0}'}


FAIL_ONCE: list[int] = []


@kitaru.checkpoint
def fail_once(x: int) -> int:
    FAIL_ONCE.append(x)
    if len(FAIL_ONCE) == 1:
        raise RuntimeError("fails the first time")
    return x * 10


@kitaru.flow
def fail_once_flow(x: int) -> int:
    return fail_once(x)
