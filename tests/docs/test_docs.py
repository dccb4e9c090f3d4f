"""Every ```python block in docs/ runs (per page, top to bottom, in a fresh process and a
fresh embedded journal). Blocks marked ```python no-run are reference snippets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(p for p in DOCS.rglob("*.md") if BLOCK.search(p.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    code = "\n\n".join(BLOCK.findall(page.read_text()))
    script = tmp_path / "page.py"
    script.write_text(code)
    # Doc pages are scripts without a main guard, so a worker could not re-import them
    # (it refuses to start flows at import time): run them on the in-process journal, where
    # continuations run on threads of this process.
    env = dict(
        os.environ,
        KITARU_CONFIG_PATH=str(tmp_path / "config"),
        KITARU_NO_PROMPT="1",
        KITARU_STORE_URL="memory://",
    )
    env.pop("KITARU_ARTIFACT_STORE", None)
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
