"""Recovery from journal faults, injected with FaultyBackend (no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kitaru import KitaruClient
from kitaru._runtime import Runtime, use_runtime
from kitaru.artifacts import LocalArtifactStore
from kitaru.errors import KitaruExecutionError
from kitaru.testing import Fault, FaultyBackend, MemoryBackend

from . import flows_basic as fb


@pytest.mark.parametrize("when", ["before", "after"])
def test_lost_commit_acknowledgement_is_idempotent(tmp_path: Path, when: str) -> None:
    """The 2nd checkpoint commit fails (before it happened, or after it happened but the
    acknowledgement was lost). The execution fails with origin runtime; retry completes it
    and a committed checkpoint never runs twice."""
    backend = FaultyBackend(MemoryBackend(), Fault(method="save_call", nth=2, when=when))
    runtime = Runtime(backend=backend, artifact_store=LocalArtifactStore(tmp_path), lease_seconds=5)
    fb.CALLS.clear()
    with use_runtime(runtime):
        handle = fb.arithmetic.run(1, cache=False)
        with pytest.raises(KitaruExecutionError, match="injected fault"):
            handle.wait(timeout=10)
        client = KitaruClient()
        failed = client.executions.get(handle.exec_id)
        assert failed.failure is not None and failed.failure.origin.value == "runtime"
        client.executions.retry(handle.exec_id)
        assert handle.wait(timeout=10) == 8
    expected_runs = ["add(1,1)", "add(2,2)", "double(4)"]
    if when == "before":
        expected_runs.insert(2, "add(2,2)")  # not committed the first time: runs again
    assert expected_runs == fb.CALLS
