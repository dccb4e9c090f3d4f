"""Flows used by the CliRunner tests (importable, so the engine can re-import them)."""

from __future__ import annotations

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
