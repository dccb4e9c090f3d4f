"""The Claude Agent SDK example runs as a user runs it: a fresh process on the embedded default
journal; the approval comes from a second process and a worker resumes the Claude session from
the transcript kept in Kitaru's journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_claude_agent_example(tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = dict(
        os.environ, KITARU_CONFIG_PATH=str(config), CLAUDE_CONFIG_DIR=str(tmp_path / "claude")
    )
    env.pop("KITARU_STORE_URL", None)
    env.pop("KITARU_ARTIFACT_STORE", None)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "claude_agent.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert 'waiting on \'Bash\': Run this command? {"command": "make clean"}' in out
    assert "model turns in this process: 2" in out
    assert "result: 'The build directory is clean.'" in out
    assert "checkpoint ops_agent_run_1 (llm_call)" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["approvals"] == [
        {"tool_use_id": "toolu_1", "tool_name": "Bash", "allow": True, "message": None}
    ]
    # What ran before the wait was replayed from the journal by the worker, not sent again.
    assert summary["replayed"] == [True, True, True, False, False]
    assert (config / "kitaru.db").is_file()
