"""The session store passes the SDK's conformance helper on a real SQLite journal too."""

from __future__ import annotations

import itertools
from pathlib import Path

import kitaru_claude_agent_sdk as kc
import pytest
from claude_agent_sdk.testing import run_session_store_conformance
from kitaru.runtime import Runtime


@pytest.mark.anyio
async def test_session_store_conformance_on_sqlite(tmp_path: Path) -> None:
    runtime = Runtime.from_urls(f"sqlite:///{tmp_path / 'journal.db'}", str(tmp_path / "a"))
    counter = itertools.count()
    try:
        # every store gets a namespace of its own: the helper wants isolated stores
        await run_session_store_conformance(
            lambda: kc.KitaruSessionStore(
                backend=runtime.backend, namespace=f"claude_agent_sdk.t{next(counter)}"
            )
        )
    finally:
        runtime.close()
