"""Overhead of ``kp.wrap`` per model request, on a SQLite journal (FULL and NORMAL).

Inside one ``@checkpoint`` of a flow, the same FunctionModel agent runs ``--runs`` times in
three ways: ``plain`` (unwrapped: PydanticAI only, nothing journaled), ``wrapped`` (the
default: every model request and tool call a journaled child event, with tracking metadata
and its prompt/response or args/result artifacts) and ``lean`` (wrapped with
``CaptureConfig(mode="metadata_only")`` for model requests and tools: journaled and tracked in
metadata, no artifacts). All are driven the same way (``await agent.run()`` on one event
loop), so the differences are what the adapter adds.
Workloads: ``1req`` (the model answers at once: one request per run) and ``5req`` (four turns
that each call a no-op tool, then the answer: five requests and four tool calls per run).

Every (mode, repetition) runs in its own child process on a fresh journal; repetitions
alternate between the modes. A child first runs one full-size round of every case (discarded:
imports, schema and adapter caches, the journal file's first pages), then ``--rounds`` rounds,
each running every case once (one checkpoint call of ``--runs`` agent runs) in an order that
rotates from round to round, so no case always runs first or right after another. Prints, per
workload and mode, ms per run and per model request (median over all rounds of all children)
and the overhead per model request of ``wrapped`` and ``lean`` over ``plain``, and whether the
target (at most 1 ms per model request for ``wrapped`` on FULL, the default) is met.

Usage::

    bench_pydantic_ai.py [--runs 40] [--rounds 5] [--reps 3] [--dir BASE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MODES = ("FULL", "NORMAL")
TARGET_MS = 1.0
WORKLOADS = {"1req": 1, "5req": 5}


def _child(mode: str, runs: int, rounds: int, base: Path) -> dict[str, Any]:
    os.environ["KITARU_SQLITE_SYNCHRONOUS"] = mode  # read when the journal engine is created
    import asyncio
    import time

    import kitaru_pydantic_ai as kp
    from kitaru import checkpoint, flow
    from kitaru.runtime import Runtime, use_runtime
    from pydantic_ai import Agent
    from pydantic_ai.durable_exec import (
        BaseDurabilityCapability,
        JournalCallableOperationBackend,
        RoleBasedOperationConfig,
    )
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel

    class NoopBackend(JournalCallableOperationBackend[dict[str, Any]]):
        async def execute(self, *, body: Any, **_: Any) -> object:
            return await body()

    class NoopDurability(kp.KitaruDurability):
        """Kitaru's capability with an engine that journals and tracks nothing: what PydanticAI's
        durable-execution layer costs by itself (any durable_exec engine pays it)."""

        @property
        def in_durable_context(self) -> bool:
            return True

        async def wrap_run(self, ctx: Any, *, handler: Any) -> Any:
            return await BaseDurabilityCapability.wrap_run(self, ctx, handler=handler)

        def get_durable_operation_backend(self) -> Any:
            backend = self.__dict__.get("_noop_backend")
            if backend is None:
                config: Any = RoleBasedOperationConfig(model={}, event={}, capability={}, tool={})
                backend = NoopBackend(
                    agent_name=self.name, default_model_id=self.default_model_id, config=config
                )
                self.__dict__["_noop_backend"] = backend
            return backend

    class PerRun:
        """``agent.run()`` with the no-op durability capability given per run (as kp.wrap
        gives its own)."""

        def __init__(self, agent: Any) -> None:
            self.agent, self.capability = agent, NoopDurability()

        async def run(self, prompt: str) -> Any:
            return await self.agent.run(prompt, capabilities=[self.capability])

    def agent_for(requests: int, *capabilities: Any) -> Agent[None, str]:
        def model(messages: list[Any], info: Any) -> ModelResponse:
            turn = sum(1 for m in messages if m.kind == "response")
            if turn < requests - 1:
                return ModelResponse(parts=[ToolCallPart("noop", {"i": turn})])
            return ModelResponse(parts=[TextPart("done")])

        agent = Agent(
            FunctionModel(model), name=f"bench{requests}", capabilities=list(capabilities)
        )

        @agent.tool_plain
        def noop(i: int) -> int:
            return i

        return agent

    agents: dict[str, Any] = {}
    lean = kp.CaptureConfig(mode="metadata_only")
    for key, requests in WORKLOADS.items():
        plain = agent_for(requests)
        agents[f"{key}/plain"] = plain
        agents[f"{key}/floor_run"] = PerRun(plain)
        agents[f"{key}/floor_agent"] = agent_for(requests, NoopDurability())
        agents[f"{key}/attached"] = kp.wrap(agent_for(requests, kp.KitaruDurability()))
        agents[f"{key}/wrapped"] = kp.wrap(plain)
        agents[f"{key}/lean"] = kp.wrap(
            plain, name=f"lean{requests}", model_capture_config=lean, tool_capture_config=lean
        )

    @checkpoint
    def measure(case: str, n: int) -> float:
        agent = agents[case]

        async def loop() -> float:
            start = time.perf_counter()
            for _ in range(n):
                await agent.run("go")
            return time.perf_counter() - start

        return asyncio.run(loop())

    @flow
    def bench(n: int) -> dict[str, list[float]]:
        cases = list(agents)
        for case in cases:  # warm-up round, discarded
            measure(case, n)
        out: dict[str, list[float]] = {case: [] for case in cases}
        for r in range(rounds):
            shift = r % len(cases)
            for case in cases[shift:] + cases[:shift]:
                out[case].append(measure(case, n))
        return out

    runtime = Runtime.from_urls(f"sqlite:///{base / 'journal.db'}", str(base / "artifacts"))
    with use_runtime(runtime):
        handle = bench.run(runs)
        seconds = handle.wait(timeout=600)
        # Rows the adapter journaled per case (events and their artifacts) in the warm-up
        # round; an event and the artifacts saved with it are one commit.
        rows: dict[str, int] = {}
        events: dict[str, int] = {}
        for artifact in runtime.backend.list_artifacts(handle.exec_id):
            if artifact.invocation_id and artifact.save_type in ("event", "manual"):
                rows[artifact.invocation_id] = rows.get(artifact.invocation_id, 0) + 1
                if artifact.save_type == "event":
                    events[artifact.invocation_id] = events.get(artifact.invocation_id, 0) + 1
    runtime.close()
    ids = ["measure"] + [f"measure_{i}" for i in range(2, len(agents) + 1)]
    writes = {
        case: {"rows": rows.get(ids[i], 0), "commits": events.get(ids[i], 0)}
        for i, case in enumerate(agents)
    }
    return {"seconds": seconds, "writes": writes, "fsync_ms": _raw_commit_ms(base)}


def _raw_commit_ms(base: Path, n: int = 200) -> float:
    """The disk's floor: one-row commits on a WAL SQLite file with synchronous=FULL."""
    import sqlite3
    import time

    db = sqlite3.connect(base / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (v INTEGER)")
    start = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?)", (i,))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds per child")
    ap.add_argument("--reps", type=int, default=3, help="children per SQLite mode")
    ap.add_argument("--dir", default=None, help="base folder (a real disk, not tmpfs)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.runs, args.rounds, Path(args.dir))))
        return
    base = Path(tempfile.mkdtemp(prefix="kitaru-bench-pai-", dir=args.dir))
    samples: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
    writes: dict[str, dict[str, int]] = {}
    fsync: list[float] = []
    env = dict(os.environ, KITARU_CONFIG_PATH=str(base / "config"))
    env.pop("KITARU_STORE_URL", None)
    try:
        for rep in range(args.reps):
            for mode in MODES:
                folder = Path(tempfile.mkdtemp(dir=base))
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        mode,
                        "--runs",
                        str(args.runs),
                        "--rounds",
                        str(args.rounds),
                        "--dir",
                        str(folder),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                ).stdout
                data = json.loads(out.strip().splitlines()[-1])
                for case, seconds in data["seconds"].items():
                    samples[mode].setdefault(case, []).extend(seconds)
                writes.update(data["writes"])
                fsync.append(data["fsync_ms"])
                print(f"  rep {rep + 1}/{args.reps} {mode} done", file=sys.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    result: dict[str, Any] = {
        "runs": args.runs,
        "rounds": args.rounds,
        "reps": args.reps,
        "raw_fsync_commit_ms_median": round(statistics.median(fsync), 3),
        "journal_writes_per_run": {
            case: {k: v / args.runs for k, v in w.items()} for case, w in writes.items()
        },
        "modes": {},
    }
    print(
        f"kp.wrap overhead, {args.runs} agent runs per case inside one checkpoint, median of "
        f"{args.rounds} rounds x {args.reps} children per mode (ms):"
    )
    print(
        f"  raw SQLite FULL one-row commit on this disk (the fsync floor): "
        f"{statistics.median(fsync):.3f} ms, median of {len(fsync)} children"
    )
    print(
        "  journal per run, commits (rows): "
        + ", ".join(
            f"{c} {w['commits'] / args.runs:g} ({w['rows'] / args.runs:g})"
            for c, w in writes.items()
            if "plain" not in c
        )
    )
    kinds = ("floor_run", "floor_agent", "wrapped", "attached", "lean")
    print(
        f"  {'workload':8} {'sqlite':7} {'plain/run':>10} "
        + " ".join(f"{k + ' +/req':>15}" for k in kinds)
        + f" {'kitaru share':>13}"
    )
    for mode in MODES:
        result["modes"][mode] = {}
        for key, requests in WORKLOADS.items():
            ms = {
                kind: statistics.median(samples[mode][f"{key}/{kind}"]) / args.runs * 1000
                for kind in ("plain", *kinds)
            }
            over = {kind: (ms[kind] - ms["plain"]) / requests for kind in kinds}
            share = over["wrapped"] - over["floor_run"]
            result["modes"][mode][key] = {
                "requests_per_run": requests,
                **{f"{kind}_ms_per_run": round(v, 3) for kind, v in ms.items()},
                **{f"{kind}_overhead_ms_per_request": round(v, 3) for kind, v in over.items()},
                "kitaru_share_ms_per_request": round(share, 3),
                "seconds": {
                    case: samples[mode][case] for case in samples[mode] if case.startswith(key)
                },
            }
            print(
                f"  {key:8} {mode:7} {ms['plain']:10.3f} "
                + " ".join(f"{over[k]:15.3f}" for k in kinds)
                + f" {share:13.3f}"
            )
    print(
        "  floor_run / floor_agent: PydanticAI's durable_exec with a no-op engine, given per run "
        "(as kp.wrap does) / at agent construction; attached: kp.wrap of an agent built with "
        "capabilities=[kp.KitaruDurability()]; kitaru share = wrapped - floor_run"
    )
    result["target_ms_per_request_full"] = TARGET_MS
    for kind in ("wrapped", "attached"):
        full = {
            key: result["modes"]["FULL"][key][f"{kind}_overhead_ms_per_request"]
            for key in WORKLOADS
        }
        met = all(v <= TARGET_MS for v in full.values())
        result[f"target_met_full_{kind}"] = met
        print(
            f"  target: {kind} <= {TARGET_MS:g} ms per model request on FULL (the default): "
            + ("met" if met else "NOT met")
            + " ("
            + ", ".join(f"{key} {v:.3f}" for key, v in full.items())
            + ")"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
