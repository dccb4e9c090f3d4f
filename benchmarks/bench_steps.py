"""Per-step cost of a durable 200-step linear workflow: raw SQLite, Kitaru, DBOS, LangGraph.

Run it through ``benchmarks/run`` (which installs the peers into ``benchmarks/.venv``).

Every workflow is the same: ``x = 0``, then N sequential steps that each return ``x + 1``.
Each (case, repetition) runs in its own child process, in its own fresh folder under one
temporary base folder (so every system writes to the same disk), after a short warm-up run on
a throwaway journal in the same process. Repetitions are interleaved round-robin across the
cases, so a slow spell of the disk hits every system alike. The figure per repetition is the
wall time of the whole workflow as its caller sees it (start to finished, nothing polled)
divided by N; the median and min over the repetitions are reported.

Usage::

    bench_steps.py [--steps 200] [--reps 5] [--only kitaru,dbos,...] [--dir BASE]
                   [--json benchmarks/results/latest.json] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "latest.json"
WARMUP_STEPS = 20
EMPTY_RUNS = 15


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------


def _bytes_under(path: Path) -> int:
    """Total file size of everything under ``path`` (a file or a folder)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += (Path(root) / name).stat().st_size
    return total


def _sqlite_bytes(db: Path) -> int:
    """The database file plus any -wal / -shm / -journal file beside it."""
    total = 0
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            total += p.stat().st_size
    return total


def _journal_mode(db: Path) -> str:
    """The journal mode stored in a closed SQLite file (WAL is persistent; else 'delete')."""
    try:
        with open(db, "rb") as f:
            header = f.read(20)
        return "wal" if len(header) == 20 and header[18] == 2 else "rollback"
    except OSError:
        return "?"


# ----------------------------------------------------------------------------------------
# the cases (each runs inside a child process; returns a dict of figures)
# ----------------------------------------------------------------------------------------


def case_raw(workdir: Path, steps: int, synchronous: str, **_: Any) -> dict[str, Any]:
    """One row per step, one transaction (BEGIN IMMEDIATE .. COMMIT) per row, WAL."""

    def run(db: Path, n: int) -> float:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute(
            "CREATE TABLE steps (wf TEXT NOT NULL, seq INTEGER NOT NULL, output TEXT NOT NULL,"
            " PRIMARY KEY (wf, seq))"
        )
        insert = "INSERT INTO steps (wf, seq, output) VALUES (?, ?, ?)"
        t0 = time.perf_counter()
        x = 0
        for i in range(n):
            x = x + 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(insert, ("wf-1", i, json.dumps(x)))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - t0
        conn.close()
        assert x == n
        return elapsed

    (workdir / "warm").mkdir()
    run(workdir / "warm" / "raw.db", WARMUP_STEPS)
    (workdir / "run").mkdir()
    db = workdir / "run" / "raw.db"
    elapsed = run(db, steps)
    return {
        "seconds": elapsed,
        "journal_bytes": _sqlite_bytes(db),
        "journal_mode": "wal",
        "synchronous": synchronous,
    }


def case_kitaru(
    workdir: Path, steps: int, synchronous: str, profile: bool = False, **_: Any
) -> dict[str, Any]:
    """``@flow`` calling N ``@checkpoint``s on a fresh SQLite journal (cache=False)."""
    os.environ["KITARU_SQLITE_SYNCHRONOUS"] = synchronous  # read when the engine is created
    from kitaru import checkpoint, flow
    from kitaru._runtime import Runtime, use_runtime

    body: dict[str, Any] = {}

    @checkpoint
    def add_one(x: int) -> int:
        return x + 1

    @flow
    def chain(n: int) -> int:
        prof = None
        wal = body.get("wal")
        if body.get("profile"):
            import cProfile

            wal0 = wal.stat().st_size if wal.exists() else 0
            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        x = 0
        for _ in range(n):
            x = add_one(x)
        body["seconds"] = time.perf_counter() - t0
        if prof is not None:
            prof.disable()
            body["profiler"] = prof
            body["wal_bytes"] = wal.stat().st_size - wal0
        return x

    @flow
    def empty() -> None:
        return None

    def flow_thread(exec_id: str) -> threading.Thread | None:
        # The local runner runs a new execution on a thread named after it; joining that
        # thread times the execution exactly (FlowHandle.wait() polls, 10 ms at first).
        name = f"kitaru-flow-{exec_id[:8]}"
        for t in threading.enumerate():
            if t.name == name:
                return t
        return None

    def timed_run(f: Any, *args: Any) -> tuple[float, Any, bool]:
        t0 = time.perf_counter()
        handle = f.run(*args, cache=False)
        thread = flow_thread(handle.exec_id)
        if thread is not None:
            thread.join(timeout=300)
        result = handle.wait(timeout=300)
        return time.perf_counter() - t0, result, thread is not None

    def runtime_at(folder: Path) -> Runtime:
        folder.mkdir()
        rt = Runtime.from_urls(f"sqlite:///{folder}/j.db", str(folder / "art"))
        # Create the journal (schema migrations) before anything is timed, as DBOS.launch()
        # creates DBOS's system database and case_raw its table: a store is set up once,
        # not per workflow. (Until 2026-11-22 this ~20 ms landed in the timed first run.)
        rt.backend.list_executions()
        return rt

    warm = runtime_at(workdir / "warm")
    with use_runtime(warm):
        timed_run(chain, WARMUP_STEPS)
        timed_run(empty)
    warm.close()

    rt = runtime_at(workdir / "run")
    sql: dict[str, int] = {}
    if profile:
        # Count statements, and keep every WAL frame in the -wal file (no automatic
        # checkpoint) so its growth over the flow body gives the pages written per checkpoint.
        _count_statements(rt, sql)
        body["wal"] = workdir / "run" / "j.db-wal"
    with use_runtime(rt):
        body["profile"] = profile
        elapsed, result, joined = timed_run(chain, steps)
        assert result == steps, result
        body_seconds = body["seconds"]
        profiler = body.pop("profiler", None)
        body["profile"] = False
    rt.close()
    out: dict[str, Any] = {
        "seconds": elapsed,
        "body_seconds": body_seconds,
        "journal_bytes": _sqlite_bytes(workdir / "run" / "j.db"),
        "artifact_bytes": _bytes_under(workdir / "run" / "art")
        if (workdir / "run" / "art").exists()
        else 0,
        "journal_mode": _journal_mode(workdir / "run" / "j.db"),
        "synchronous": synchronous,
        "joined_thread": joined,
    }

    # Empty flow, start to finish: exact (thread joined) and as `.run().wait()` sees it.
    ert = runtime_at(workdir / "empty")
    with use_runtime(ert):
        exact = [timed_run(empty)[0] for _ in range(EMPTY_RUNS)]
        waited = []
        for _ in range(EMPTY_RUNS):
            t0 = time.perf_counter()
            empty.run(cache=False).wait(timeout=60)
            waited.append(time.perf_counter() - t0)
    ert.close()
    out["empty_seconds"] = statistics.median(exact)
    out["empty_wait_seconds"] = statistics.median(waited)

    if profiler is not None:
        out["profile"] = _profile_rows(profiler, steps)
        out["sql_per_checkpoint"] = {k: v / steps for k, v in sorted(sql.items())}
        page = sqlite3.connect(workdir / "run" / "j.db").execute("PRAGMA page_size").fetchone()[0]
        out["wal_bytes_per_checkpoint"] = body["wal_bytes"] / steps
        out["wal_frames_per_checkpoint"] = body["wal_bytes"] / steps / (page + 24)
    return out


def _count_statements(rt: Any, counts: dict[str, int]) -> None:
    """Count the SQL statements the journal's SQLite connections run, by kind and by path.

    SQLite's trace callback sees every statement (those run through SQLAlchemy Core and those
    run on the DB-API cursor, plus BEGIN / COMMIT); SQLAlchemy's own event marks the ones that
    went through Core, and flags statements Core had to compile on every execution.
    """
    from sqlalchemy import event

    engine = getattr(rt.backend, "engine", None)
    if engine is None:
        return
    core: dict[str, int] = {}

    def kind_of(statement: str) -> str | None:
        words = statement.split()
        verb = words[0].upper() if words else "?"
        if verb in ("CREATE", "PRAGMA", "DROP", "ALTER") or "alembic_version" in statement:
            return None  # schema set-up on first use, not per checkpoint
        if verb == "INSERT":
            return " ".join(words[:3])
        if verb in ("UPDATE", "BEGIN"):
            return " ".join(words[:2])
        if verb == "SELECT" and "FROM" in words:
            return "SELECT FROM " + words[words.index("FROM") + 1]
        return verb

    def traced(statement: str) -> None:
        kind = kind_of(statement)
        if kind is None:
            return
        if core.get(kind, 0) > 0:
            core[kind] -= 1
            kind += "  [through SQLAlchemy Core]"
        counts[kind] = counts.get(kind, 0) + 1

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        kind = kind_of(statement)
        if kind is None:
            return
        hit = getattr(getattr(context, "cache_hit", None), "name", None)
        if not kind.startswith("BEGIN") and hit == "NO_CACHE_KEY":
            counts[kind + "  [no cache key: compiled every time]"] = (
                counts.get(kind + "  [no cache key: compiled every time]", 0) + 1
            )
        core[kind] = core.get(kind, 0) + 1

    set_up: set[int] = set()

    @event.listens_for(engine, "checkout")
    def _trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if id(dbapi_connection) in set_up:
            return
        set_up.add(id(dbapi_connection))
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
        dbapi_connection.set_trace_callback(traced)


def _profile_rows(profiler: Any, steps: int) -> dict[str, list[dict[str, Any]]]:
    """Top functions by own time and by cumulative time, in ms per checkpoint."""
    import pstats

    stats = pstats.Stats(profiler).strip_dirs()
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        where = f"{file}:{line}({func})" if file != "~" else func
        rows.append(
            {
                "function": where,
                "calls_per_checkpoint": nc / steps,
                "own_ms": tt * 1000 / steps,
                "cum_ms": ct * 1000 / steps,
            }
        )
    total = sum(r["own_ms"] for r in rows)
    by_own = sorted(rows, key=lambda r: -r["own_ms"])[:10]
    by_cum = sorted(rows, key=lambda r: -r["cum_ms"])[:14]
    return {"total_ms": total, "by_own_time": by_own, "by_cumulative": by_cum}


def case_dbos(workdir: Path, steps: int, **_: Any) -> dict[str, Any]:
    """A DBOS workflow calling N ``@DBOS.step()``s, SQLite system database (DBOS defaults)."""
    import logging

    from dbos import DBOS

    body: dict[str, float] = {}

    @DBOS.step()
    def add_one(x: int) -> int:
        return x + 1

    @DBOS.workflow()
    def chain(n: int) -> int:
        t0 = time.perf_counter()
        x = 0
        for _ in range(n):
            x = add_one(x)
        body["seconds"] = time.perf_counter() - t0
        return x

    @DBOS.workflow()
    def empty() -> None:
        return None

    def launch(folder: Path) -> Path:
        folder.mkdir()
        db = folder / "dbos.sqlite"
        DBOS(
            config={
                "name": "kitaru-bench",
                "system_database_url": f"sqlite:///{db}",
                "run_admin_server": False,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()
        return db

    def shutdown() -> None:
        DBOS.destroy(destroy_registry=False)
        logging.getLogger("dbos").setLevel(logging.WARNING)

    launch(workdir / "warm")
    chain(WARMUP_STEPS)
    empty()
    shutdown()

    db = launch(workdir / "run")
    t0 = time.perf_counter()
    result = chain(steps)
    elapsed = time.perf_counter() - t0
    assert result == steps, result
    shutdown()
    out: dict[str, Any] = {
        "seconds": elapsed,
        "body_seconds": body["seconds"],
        "journal_bytes": _sqlite_bytes(db),
        "journal_mode": _journal_mode(db),
        "synchronous": _default_synchronous(),
    }

    launch(workdir / "empty")
    times = []
    for _ in range(EMPTY_RUNS):
        t0 = time.perf_counter()
        empty()
        times.append(time.perf_counter() - t0)
    shutdown()
    out["empty_seconds"] = statistics.median(times)
    return out


def _default_synchronous() -> str:
    value = sqlite3.connect(":memory:").execute("PRAGMA synchronous").fetchone()[0]
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(value, str(value))


def case_langgraph(workdir: Path, steps: int, durability: str | None, **_: Any) -> dict[str, Any]:
    """A linear StateGraph of N nodes; with SqliteSaver (``durability``) or no checkpointer."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        x: int

    def add_one(state: State) -> dict[str, int]:
        return {"x": state["x"] + 1}

    def build(n: int) -> StateGraph:
        graph = StateGraph(State)
        previous = START
        for i in range(n):
            graph.add_node(f"s{i}", add_one)
            graph.add_edge(previous, f"s{i}")
            previous = f"s{i}"
        graph.add_edge(previous, END)
        return graph

    config = {"configurable": {"thread_id": "bench-1"}, "recursion_limit": steps + 10}

    def run(folder: Path, n: int) -> tuple[float, Path | None]:
        folder.mkdir()
        graph = build(n)
        if durability is None:
            app = graph.compile()
            t0 = time.perf_counter()
            result = app.invoke({"x": 0}, config)
            elapsed = time.perf_counter() - t0
            db = None
        else:
            from langgraph.checkpoint.sqlite import SqliteSaver

            db = folder / "lg.sqlite"
            conn = sqlite3.connect(db, check_same_thread=False)
            saver = SqliteSaver(conn)
            saver.setup()  # its tables, before timing (as for every other system)
            app = graph.compile(checkpointer=saver)
            t0 = time.perf_counter()
            result = app.invoke({"x": 0}, config, durability=durability)
            elapsed = time.perf_counter() - t0
            conn.close()
        assert result["x"] == n, result
        return elapsed, db

    run(workdir / "warm", WARMUP_STEPS)
    elapsed, db = run(workdir / "run", steps)
    out: dict[str, Any] = {"seconds": elapsed}
    if db is not None:
        out.update(
            journal_bytes=_sqlite_bytes(db),
            journal_mode=_journal_mode(db),
            synchronous=_default_synchronous(),
        )
    return out


# (key, label, function, keyword arguments, group for --only)
CASES: list[tuple[str, str, Callable[..., dict[str, Any]], dict[str, Any], str]] = [
    (
        "raw_full",
        "raw SQLite WAL, 1 row/txn, synchronous=FULL",
        case_raw,
        {"synchronous": "FULL"},
        "raw",
    ),
    (
        "raw_normal",
        "raw SQLite WAL, 1 row/txn, synchronous=NORMAL",
        case_raw,
        {"synchronous": "NORMAL"},
        "raw",
    ),
    (
        "kitaru_full",
        "Kitaru @checkpoint, SQLite FULL (default)",
        case_kitaru,
        {"synchronous": "FULL"},
        "kitaru",
    ),
    (
        "kitaru_normal",
        "Kitaru @checkpoint, SQLite NORMAL",
        case_kitaru,
        {"synchronous": "NORMAL"},
        "kitaru",
    ),
    ("dbos", "DBOS @DBOS.step, SQLite system DB", case_dbos, {}, "dbos"),
    (
        "langgraph_sync",
        "LangGraph SqliteSaver, durability=sync",
        case_langgraph,
        {"durability": "sync"},
        "langgraph",
    ),
    (
        "langgraph_none",
        "LangGraph, no checkpointer",
        case_langgraph,
        {"durability": None},
        "langgraph",
    ),
]
BY_KEY = {c[0]: c for c in CASES}


# ----------------------------------------------------------------------------------------
# the parent: spawn, collect, print, write JSON
# ----------------------------------------------------------------------------------------


def _child(key: str, workdir: Path, steps: int, profile: bool) -> None:
    _, _, func, kwargs, _ = BY_KEY[key]
    result = func(workdir, steps, profile=profile, **kwargs)
    print("BENCH-RESULT " + json.dumps(result), flush=True)
    # Skip interpreter teardown: some peers leave non-daemon threads behind.
    sys.stdout.flush()
    os._exit(0)


def _spawn(
    key: str, base: Path, rep: int, steps: int, profile: bool, timeout: float
) -> dict[str, Any]:
    workdir = base / f"{key}-{rep}"
    workdir.mkdir()
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        key,
        "--workdir",
        str(workdir),
        "--steps",
        str(steps),
    ]
    if profile:
        cmd.append("--profile")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=str(workdir)
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line[len("BENCH-RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    return {"error": f"exit {proc.returncode}: " + "\n".join(tail)}


def _machine(base: Path) -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    fs = ""
    try:
        out = subprocess.run(["df", "-T", str(base)], capture_output=True, text=True).stdout
        fs = " ".join(out.splitlines()[-1].split()[:2])
    except (OSError, IndexError):
        pass
    versions = {}
    for dist in (
        "kitaru-core",
        "kitaru-backend-sql",
        "dbos",
        "langgraph",
        "langgraph-checkpoint-sqlite",
        "sqlalchemy",
    ):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001 - not installed
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "disk": fs,
        "versions": versions,
    }


def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated groups or case keys: "
        + ", ".join(sorted({c[4] for c in CASES} | set(BY_KEY))),
    )
    ap.add_argument(
        "--dir",
        default=None,
        help="base folder for the journals "
        "(default: the system temp folder); must be a real disk, not tmpfs",
    )
    ap.add_argument("--json", default=str(DEFAULT_JSON))
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile one Kitaru (FULL) run and print the top 15",
    )
    ap.add_argument("--timeout", type=float, default=180.0, help="per child process, seconds")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        _child(args.child, Path(args.workdir), args.steps, args.profile)
        return 0

    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    cases = [c for c in CASES if not wanted or c[0] in wanted or c[4] in wanted]
    if not cases:
        ap.error(f"--only {args.only!r} matches no case")
    base = Path(tempfile.mkdtemp(prefix="kitaru-bench-", dir=args.dir))
    machine = _machine(base)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine["load_average_1min_at_start"] = load
    if load is not None and load > 0.5 * (os.cpu_count() or 1):
        print(
            f"bench: warning: load average {load:.1f} on {os.cpu_count()} cores; other "
            "work on this machine (and its disk) makes the figures noisy",
            file=sys.stderr,
        )
    print(
        f"bench: {args.steps} steps x {args.reps} repetitions, journals under {base} "
        f"({machine['disk']}); {machine['cores']} cores, {machine['cpu']}",
        flush=True,
    )

    samples: dict[str, list[dict[str, Any]]] = {c[0]: [] for c in cases}
    errors: dict[str, str] = {}
    started = time.monotonic()
    try:
        for rep in range(args.reps):
            for key, label, *_ in cases:
                if key in errors:
                    continue
                r = _spawn(key, base, rep, args.steps, False, args.timeout)
                if "error" in r:
                    errors[key] = r["error"]
                    print(f"  {label}: FAILED, skipped: {r['error']}", file=sys.stderr, flush=True)
                    continue
                samples[key].append(r)
                print(
                    f"  rep {rep + 1}/{args.reps} {key:15s} "
                    f"{r['seconds'] * 1000 / args.steps:7.3f} ms/step",
                    flush=True,
                )
        profile = None
        if args.profile and "kitaru_full" in samples and "kitaru_full" not in errors:
            r = _spawn("kitaru_full", base, args.reps, args.steps, True, args.timeout)
            if "profile" in r:
                profile = {
                    "profile": r["profile"],
                    "sql_per_checkpoint": r.get("sql_per_checkpoint", {}),
                    "wal_frames_per_checkpoint": r.get("wal_frames_per_checkpoint"),
                    "wal_bytes_per_checkpoint": r.get("wal_bytes_per_checkpoint"),
                    "profiled_in_body_ms": r["body_seconds"] * 1000 / args.steps,
                }
            else:
                print(f"profile run failed: {r.get('error')}", file=sys.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    wall = time.monotonic() - started

    def summary(key: str) -> dict[str, Any] | None:
        runs = samples.get(key) or []
        if not runs:
            return None
        per = [r["seconds"] * 1000 / args.steps for r in runs]
        body = [r["body_seconds"] * 1000 / args.steps for r in runs if "body_seconds" in r]
        last = runs[-1]
        s: dict[str, Any] = {
            "median_ms": statistics.median(per),
            "min_ms": min(per),
            "reps_ms": per,
            "in_body_median_ms": statistics.median(body) if body else None,
        }
        for k in ("journal_bytes", "artifact_bytes", "journal_mode", "synchronous"):
            if k in last:
                s[k] = last[k]
        if "empty_seconds" in last:
            s["empty_flow_ms"] = statistics.median(r["empty_seconds"] * 1000 for r in runs)
        if "empty_wait_seconds" in last:
            s["empty_flow_wait_ms"] = statistics.median(
                r["empty_wait_seconds"] * 1000 for r in runs
            )
        return s

    results = []
    ref = summary("kitaru_full")
    for key, label, *_ in cases:
        s = summary(key)
        entry: dict[str, Any] = {"key": key, "system": label}
        if s is None:
            entry["error"] = errors.get(key, "no result")
        else:
            entry.update(s)
            if ref is not None:
                entry["ratio_vs_kitaru_full"] = s["median_ms"] / ref["median_ms"]
        results.append(entry)

    # ---- table ---------------------------------------------------------------------------
    head = (
        f"{'system':46s} {'ms/step':>8s} {'min':>8s} {'vs Kitaru':>9s} "
        f"{'in-body':>8s} {'journal bytes':>13s}"
    )
    print()
    print(
        f"{args.steps}-step linear workflow, median / min of {args.reps} repetitions, "
        "ms per step (start to finish / steps)"
    )
    print(head)
    print("-" * len(head))
    for e in results:
        if "error" in e:
            first = e["error"].splitlines()[-1] if e["error"] else ""
            print(f"{e['system']:46s} skipped: {first[:80]}")
            continue
        ratio = e.get("ratio_vs_kitaru_full")
        ratio_text = (
            "-" if ratio is None else (f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x")
        )
        print(
            f"{e['system']:46s} {_fmt_ms(e['median_ms']):>8s} {_fmt_ms(e['min_ms']):>8s} "
            f"{ratio_text:>9s} "
            f"{_fmt_ms(e.get('in_body_median_ms')):>8s} "
            f"{(str(e['journal_bytes']) if 'journal_bytes' in e else '-'):>13s}"
        )
    print()
    for e in results:
        if "empty_flow_ms" in e:
            line = f"{e['system']}: empty workflow start to finish {e['empty_flow_ms']:.2f} ms"
            if "empty_flow_wait_ms" in e:
                line += f" (as .run().wait() sees it: {e['empty_flow_wait_ms']:.2f} ms)"
            print(line)
    print(
        "vs Kitaru = median / Kitaru FULL median (below 1 is faster than Kitaru); in-body = "
        "steps only, without workflow start and finish; journal bytes = db + wal + shm "
        "after one run, closed."
    )
    if any(r.get("joined_thread") is False for runs in samples.values() for r in runs):
        print(
            "warning: the Kitaru runner thread was not found, so Kitaru's figures include "
            "FlowHandle.wait()'s polling slack (see flow_thread() in bench_steps.py)"
        )
    noisy = [
        e["key"]
        for e in results
        if "reps_ms" in e and len(e["reps_ms"]) > 1 and max(e["reps_ms"]) > 2 * e["min_ms"]
    ]
    if noisy:
        print(
            f"noisy (slowest repetition > 2x the fastest): {', '.join(noisy)}; other work on "
            "this machine or its disk interfered: trust min over median for those, or re-run"
        )
    print(f"(benchmark wall time {wall:.0f} s)")
    if profile:
        prof = profile["profile"]
        plain = ref.get("in_body_median_ms") if ref else None
        print(
            f"\nWhere Kitaru (FULL) spends a checkpoint: cProfile of one more run's flow "
            f"body, ms per checkpoint ({profile['profiled_in_body_ms']:.2f} ms/checkpoint "
            f"under the profiler; {_fmt_ms(plain)} in-body median without it)"
        )
        for title, key, rows in (
            ("top 10 by own time", "own_ms", prof["by_own_time"]),
            ("top by cumulative time", "cum_ms", prof["by_cumulative"]),
        ):
            print(f"  {title}:")
            print(f"    {'ms/cp':>7s} {'calls/cp':>8s}  function")
            for row in rows:
                print(
                    f"    {row[key]:7.3f} {row['calls_per_checkpoint']:8.1f}  "
                    f"{row['function'][:90]}"
                )
        if profile.get("wal_frames_per_checkpoint") is not None:
            print(
                f"  WAL written per checkpoint: {profile['wal_frames_per_checkpoint']:.1f} "
                f"pages ({profile['wal_bytes_per_checkpoint'] / 1024:.1f} KiB), all in one "
                "fsync'd commit (a one-row raw SQLite commit writes 2 pages)"
            )
        if profile["sql_per_checkpoint"]:
            print("  SQL statements per checkpoint (all of the journal's SQLite connections):")
            for kind, n in profile["sql_per_checkpoint"].items():
                print(f"    {n:6.2f}  {kind}")

    payload = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "steps": args.steps,
        "reps": args.reps,
        "machine": machine,
        "results": results,
        "noisy": noisy,
        "kitaru_profile": profile,
        "wall_seconds": round(wall, 1),
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
