"""KitaruCheckpointSaver vs LangGraph's own SqliteSaver, on the same graph in one run.

A chat graph (``MessagesState``; one node answers with a fixed ~200-character AIMessage) runs
``--turns`` turns on one thread, each ``invoke({"messages": [human]}, durability="sync")``, so the
message list grows by two messages a turn. Reported per saver: time per node run and bytes on
disk (SQLite file + WAL, plus the artifact folder for Kitaru), and the logical bytes of stored
values. Both journals are SQLite files in a fresh temp folder on the same disk, both with
SQLite's ``synchronous=FULL`` (Kitaru's default; SqliteSaver's connection default).

The two savers run ``--rounds`` times, alternating which goes first, each round on fresh files;
the time reported per saver is the median of its rounds (a shared machine is noisy, and a
single pass favours whichever saver runs in the quieter moment). Storage is the same in every
round; the last round's figures are shown.

With ``--flow`` the same turns also run through ``klg.wrap`` inside one ``@flow`` run (the
saver plus one ``graph_node`` call per node); that row reports time only.

    .venv/bin/python benchmarks/bench_langgraph.py [--turns 200] [--rounds 3] [--flow] [--dir BASE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, MessagesState, StateGraph

TEXT = "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 4


def chat(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(f"answer {len(state['messages'])}: {TEXT}")]}


def build(checkpointer: Any) -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("chat", chat)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", END)
    return builder.compile(checkpointer=checkpointer)


def run_turns(graph: Any, turns: int) -> float:
    cfg = {"configurable": {"thread_id": "bench"}}
    start = time.perf_counter()
    for i in range(turns):
        out = graph.invoke(
            {"messages": [HumanMessage(f"question {i}: {TEXT}")]}, cfg, durability="sync"
        )
    elapsed = time.perf_counter() - start
    assert len(out["messages"]) == 2 * turns
    return elapsed


def disk_bytes(*paths: Path) -> int:
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        elif p.exists():
            total += p.stat().st_size
    return total


def bench_sqlite_saver(base: Path, turns: int) -> dict[str, Any]:
    db = base / "langgraph.db"
    conn = sqlite3.connect(db, check_same_thread=False)
    saver = SqliteSaver(conn)
    elapsed = run_turns(build(saver), turns)
    logical = conn.execute(
        "SELECT (SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints)"
        " + (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes)"
    ).fetchone()[0]
    conn.close()
    return {"seconds": elapsed, "disk": disk_bytes(db, Path(f"{db}-wal")), "logical": logical}


def bench_kitaru_saver(base: Path, turns: int) -> dict[str, Any]:
    from kitaru.runtime import Runtime
    from kitaru_langgraph import KitaruCheckpointSaver

    db, artifacts = base / "kitaru.db", base / "artifacts"
    empty = Runtime.from_urls(f"sqlite:///{base / 'empty.db'}", str(base / "empty-art"))
    empty.backend.list_documents("x")
    empty.close()
    baseline = disk_bytes(base / "empty.db", base / "empty.db-wal")
    runtime = Runtime.from_urls(f"sqlite:///{db}", str(artifacts))
    saver = KitaruCheckpointSaver(runtime=runtime)
    elapsed = run_turns(build(saver), turns)
    docs = [d for ns in saver.namespaces.values() for d in runtime.backend.list_documents(ns)]
    logical = sum(len(json.dumps(d.value)) + len(d.key) for d in docs)
    runtime.close()
    disk = disk_bytes(db, Path(f"{db}-wal"), artifacts) - baseline
    return {"seconds": elapsed, "disk": disk, "logical": logical, "documents": len(docs)}


def bench_kitaru_flow(base: Path, turns: int) -> dict[str, Any]:
    """The same turns through ``klg.wrap`` inside one ``@flow`` run: the saver plus a
    ``graph_node`` call per node (what a durable execution pays per node)."""
    import kitaru_langgraph as klg
    from kitaru import flow
    from kitaru.runtime import Runtime, use_runtime

    graph = klg.wrap(build(None))

    @flow
    def chat_flow(turns: int) -> float:
        cfg = {"configurable": {"thread_id": "bench"}}
        start = time.perf_counter()
        for i in range(turns):
            graph.invoke({"messages": [HumanMessage(f"question {i}: {TEXT}")]}, cfg)
        return time.perf_counter() - start

    runtime = Runtime.from_urls(f"sqlite:///{base / 'kitaru.db'}", str(base / "artifacts"))
    try:
        with use_runtime(runtime):
            elapsed = chat_flow.run(turns).wait(timeout=600)
            calls = len(runtime.backend.get_calls(runtime.backend.list_executions()[0].exec_id))
    finally:
        runtime.close()
    assert calls == turns, (calls, turns)
    return {"seconds": elapsed, "disk": 0, "logical": 0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=None)
    parser.add_argument(
        "--flow", action="store_true", help="also time klg.wrap inside a @flow (graph_node calls)"
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-langgraph-", dir=args.dir))
    os.environ.setdefault("KITARU_CONFIG_PATH", str(base / "config"))
    benches = {"langgraph_sqlitesaver": bench_sqlite_saver, "kitaru_saver": bench_kitaru_saver}
    if args.flow:
        benches["kitaru_wrap_in_flow"] = bench_kitaru_flow
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in benches}
    try:
        for r in range(args.rounds):
            order = list(benches) if r % 2 == 0 else list(reversed(benches))
            for name in order:
                folder = base / f"{name}-{r}"
                folder.mkdir()
                rounds[name].append(benches[name](folder, args.turns))
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results = {
        name: {
            **runs[-1],
            "seconds": statistics.median(r["seconds"] for r in runs),
            "rounds_seconds": [round(r["seconds"], 4) for r in runs],
        }
        for name, runs in rounds.items()
    }
    print(
        f"{args.turns} turns, one node run per turn, durability='sync', "
        f"median of {args.rounds} alternating rounds"
    )
    print(f"{'saver':24} {'ms/node':>8} {'disk bytes':>12} {'logical bytes':>14}")
    for name, r in results.items():
        print(
            f"{name:24} {1000 * r['seconds'] / args.turns:8.2f} {r['disk']:12,} {r['logical']:14,}"
        )
    lg, kt = results["langgraph_sqlitesaver"], results["kitaru_saver"]
    print(
        f"storage ratio (SqliteSaver / Kitaru): disk {lg['disk'] / kt['disk']:.1f}x, "
        f"logical {lg['logical'] / kt['logical']:.1f}x; "
        f"time ratio (Kitaru / SqliteSaver): {kt['seconds'] / lg['seconds']:.2f}"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
