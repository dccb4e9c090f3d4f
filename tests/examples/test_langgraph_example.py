"""The LangGraph example runs as a user runs it: a fresh process on the embedded default
journal; the approval comes from a second process and a worker finishes the graph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_langgraph_example(tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = dict(os.environ, KITARU_CONFIG_PATH=str(config))
    env.pop("KITARU_STORE_URL", None)
    env.pop("KITARU_ARTIFACT_STORE", None)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "langgraph_graph.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "waiting on 'review': Publish a summary of these notes?" in out
    assert "result: 'WAL mode lets readers and a writer work at the same time.'" in out
    calls = json.loads(out.strip().splitlines()[-1])
    assert calls == [["research", "graph_node"], ["review", "graph_node"], ["write", "graph_node"]]
    assert proc.stderr.count("research runs") == 1  # the continuation did not run it again
