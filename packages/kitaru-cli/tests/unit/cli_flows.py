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
