"""Time to notice a killed runner and to finish a retry of a six-checkpoint flow (SQLite).

For each repetition, in a fresh temporary folder:

1. a child process runs ``_recovery_flow.six`` on a fresh SQLite journal and is SIGKILLed
   while checkpoint 4 runs (checkpoints 1-3 are committed);
2. **detect**: from the SIGKILL until ``KitaruClient().executions.get()`` reports ``failed``
   (on the same host the runner's pid is checked, so this is one journal read; a runner on
   another host is noticed when its lease lapses, 30 s by default);
3. **retry**: from ``executions.retry()`` until the execution reads ``completed`` (a detached
   worker process starts, re-imports the flow, reuses checkpoints 1-3, runs 4-6).

Prints the median and min in seconds and checks that checkpoints 1-3 ran exactly once.
Usage: ``bench_recovery.py [--reps 3] [--dir BASE]`` (``benchmarks/run`` runs it when
``BENCH_RECOVERY=1``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "_recovery_flow.py"
POLL = 0.005


def one(base: Path, rep: int) -> dict[str, float]:
    folder = base / f"rep{rep}"
    folder.mkdir()
    store = f"sqlite:///{folder / 'j.db'}"
    art = str(folder / "art")
    os.environ.update(
        KITARU_STORE_URL=store, KITARU_ARTIFACT_STORE=art, KITARU_CONFIG_PATH=str(folder / "config")
    )
    env = dict(os.environ, BENCH_BLOCK_AT="4")
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (folder / "ready").exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise RuntimeError(
                "the child never reached checkpoint 4: " + child.stderr.read().decode()[-2000:]
            )
        time.sleep(POLL)
    exec_id = (folder / "exec_id").read_text()

    from kitaru import KitaruClient
    from kitaru._runtime import Runtime, use_runtime

    runtime = Runtime.from_urls(store, art)
    with use_runtime(runtime):
        client = KitaruClient()
        t_kill = time.perf_counter()
        child.send_signal(signal.SIGKILL)
        child.wait()
        while client.executions.get(exec_id).status.value != "failed":
            time.sleep(POLL)
        t_detected = time.perf_counter()
        client.executions.retry(exec_id)
        while True:
            status = client.executions.get(exec_id).status.value
            if status == "completed":
                break
            if status in ("failed", "cancelled"):
                raise RuntimeError(f"the retry ended {status}")
            if time.perf_counter() - t_detected > 120:
                raise RuntimeError("the retry did not finish within 120 s")
            time.sleep(POLL)
        t_done = time.perf_counter()
        done = client.executions.get(exec_id)
    runtime.close()
    child.stderr.close()

    runs = [int(x) for x in (folder / "runs").read_text().split()]
    expected = [1, 2, 3, 4, 4, 5, 6]
    if runs != expected:
        raise RuntimeError(f"checkpoint runs {runs}, expected {expected}")
    if len(done.checkpoints) != 6:
        raise RuntimeError(f"{len(done.checkpoints)} checkpoints recorded, expected 6")
    return {
        "detect_s": t_detected - t_kill,
        "retry_s": t_done - t_detected,
        "total_s": t_done - t_kill,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="kitaru-recovery-", dir=args.dir))
    try:
        samples = [one(base, rep) for rep in range(args.reps)]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    summary = {
        k: {"median": statistics.median(s[k] for s in samples), "min": min(s[k] for s in samples)}
        for k in ("detect_s", "retry_s", "total_s")
    }
    print(
        f"\nRecovery of a six-checkpoint flow killed in checkpoint 4 "
        f"(median / min of {args.reps}, seconds):"
    )
    labels = {
        "detect_s": "SIGKILL -> reads failed (runner lost)",
        "retry_s": "retry() -> completed (worker, 3 reused + 3 run)",
        "total_s": "SIGKILL -> completed",
    }
    for k, label in labels.items():
        print(f"  {label:50s} {summary[k]['median']:7.3f} {summary[k]['min']:7.3f}")
    print("  checked: checkpoints 1-3 ran once, 4 ran twice (killed mid-body), 5-6 once")
    if args.json:
        path = Path(args.json)
        data = json.loads(path.read_text()) if path.exists() else {}
        data["recovery"] = {"reps": args.reps, **summary}
        path.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
