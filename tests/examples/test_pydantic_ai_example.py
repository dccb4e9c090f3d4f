"""The PydanticAI example runs as a user runs it: a fresh process on the embedded default
journal; the approval comes from a second process and a worker finishes the agent run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_pydantic_ai_agent_example(tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = dict(os.environ, KITARU_CONFIG_PATH=str(config))
    env.pop("KITARU_STORE_URL", None)
    env.pop("KITARU_ARTIFACT_STORE", None)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "pydantic_ai_agent.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "waiting on 'approve_refund': Approve this refund?" in out
    assert '"tool_args": {"order_id": "A-17", "amount": 40.0}' in out
    assert "result: 'Your refund for order A-17 is on its way.'" in out
    assert "checkpoint refund_desk_agent_run_1 (llm_call) events:" in out
    summary = json.loads(out.strip().splitlines()[-1])
    # What ran before the wait was replayed from the journal by the worker, not sent again.
    assert summary["replayed"] == [True, True, True, False, False]
    assert (config / "kitaru.db").is_file()
