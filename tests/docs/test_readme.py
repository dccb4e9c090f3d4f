"""README's example does what the README says, in the scenario it advertises: run as a
script, killed while it listens for the answer, then answered from the command line. The
continuation runs in a detached worker that re-imports the script."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent


def _kitaru(*args: str, env: dict[str, str], cwd: Path) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [str(BIN / "kitaru"), *args, "-o", "json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_readme_example_survives_its_script_being_killed(tmp_path: Path) -> None:
    [code] = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)
    script = tmp_path / "report.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITARU_")}
    env.update(KITARU_CONFIG_PATH=str(tmp_path / "config"), KITARU_LOAD_PLUGINS="sql")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        waiting: list = []  # type: ignore[type-arg]
        while not waiting and time.monotonic() < deadline:
            time.sleep(0.3)
            assert proc.poll() is None, "the script ended before it waited"
            waiting = _kitaru("executions", "list", "--status", "waiting", env=env, cwd=tmp_path)[
                "items"
            ]
        assert len(waiting) == 1, "the example never reached its wait"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    exec_id = waiting[0]["exec_id"]

    # Answered from another process, after the script is gone: a worker continues it.
    _kitaru("executions", "input", exec_id, "--value", '"Ship it"', env=env, cwd=tmp_path)
    deadline = time.monotonic() + 60
    item: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        item = _kitaru("executions", "get", exec_id, env=env, cwd=tmp_path)["item"]
        if item["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.3)
    assert item["status"] == "completed", item.get("failure")
    assert item["result"] == "notes on durable agents\nShip it"
