"""The examples run as a user runs them: a fresh process on the embedded default journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_release_notes_demo(tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = dict(os.environ, KITARU_CONFIG_PATH=str(config))
    env.pop("KITARU_STORE_URL", None)
    env.pop("KITARU_ARTIFACT_STORE", None)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "release_notes.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "result: 'PUBLISHED: Draft about v1.0.\\nNotes: Bug fixes'" in proc.stdout
    assert "replay result: 'PUBLISHED: Edited draft about v1.0." in proc.stdout
    ids = json.loads(proc.stdout.strip().splitlines()[-1])
    assert ids["exec_id"] != ids["replay_exec_id"]
    assert (config / "kitaru.db").is_file()
