"""Lost runners elsewhere (lease expiry), logging capture, and the inline terminal prompt."""

from __future__ import annotations

import logging
import os
import pty
import select
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru._clock import utcnow
from kitaru._source import source_of
from kitaru.backend import ExecutionRecord, ExecutionState

from . import flows_basic as fb


def test_runner_on_another_host_is_lost_when_its_lease_lapses(runtime: object) -> None:
    backend = runtime.backend  # type: ignore[attr-defined]
    record = ExecutionRecord(
        exec_id=str(uuid.uuid4()),
        flow_name="arithmetic",
        source=source_of(fb.arithmetic.func),
        inputs=runtime.encode({"args": [1], "kwargs": {}}),  # type: ignore[attr-defined]
        spec={"resolved_execution": {"cache": False, "retries": 0}},
        stack="default",
        created_at=utcnow(),
    )
    backend.create_execution(record)
    backend.acquire_lease(
        record.exec_id, owner="elsewhere", host="another-host", pid=1, lease_seconds=1
    )
    client = KitaruClient()
    assert client.executions.get(record.exec_id).status.value == "running"
    time.sleep(1.2)
    lost = client.executions.get(record.exec_id)
    assert lost.status.value == "failed"
    assert lost.failure is not None and lost.failure.origin.value == "runtime"
    assert "another-host" in lost.failure.message and "lease expired" in lost.failure.message
    client.executions.retry(record.exec_id)
    assert FlowHandle(record.exec_id).wait(timeout=30) == 8


def test_a_zombie_runner_cannot_write_after_losing_its_lease(runtime: object) -> None:
    backend = runtime.backend  # type: ignore[attr-defined]
    handle = fb.with_wait.run(1, timeout=0.1)
    deadline = time.monotonic() + 20
    while backend.get_execution(handle.exec_id).state is not ExecutionState.WAITING:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    old_epoch = backend.get_execution(handle.exec_id).epoch
    from kitaru.backend import FencingError

    with pytest.raises(FencingError):
        backend.merge_metadata(handle.exec_id, old_epoch, {"zombie": True})
    assert "zombie" not in KitaruClient().executions.get(handle.exec_id).metadata


def test_logging_output_is_captured_per_checkpoint(runtime: object) -> None:
    logger = logging.getLogger("kitaru.tests.agent")
    logger.setLevel(logging.INFO)

    @checkpoint
    def talk() -> int:
        logger.info("thinking about %s", "durability")
        logger.warning("careful")
        print("to stdout")
        print("to stderr", file=sys.stderr)
        return 1

    @flow
    def chatty() -> int:
        logger.info("in the flow body")
        return talk()

    handle = chatty.run()
    handle.wait(timeout=10)
    client = KitaruClient()
    step = client.executions.logs(handle.exec_id)
    assert [(e.level, e.message) for e in step] == [
        ("INFO", "thinking about durability"),
        ("WARNING", "careful"),
        ("INFO", "to stdout"),
        ("ERROR", "to stderr"),
    ]
    assert step[0].module == "test_runtime_details" and step[0].checkpoint_name == "talk"
    runner = client.executions.logs(handle.exec_id, source="runner")
    assert [e.message for e in runner] == ["in the flow body"]


def test_all_logs_are_merged_in_time_order(runtime: object) -> None:
    @checkpoint
    def step(i: int) -> int:
        print(f"step {i}")
        return i

    @flow
    def interleaved() -> int:
        print("body 0")
        total = step(1)
        print("body 2")
        total += step(3)
        print("body 4")
        return total

    handle = interleaved.run()
    handle.wait(timeout=10)
    merged = KitaruClient().executions.logs(handle.exec_id, source="all")
    assert [e.message for e in merged] == ["body 0", "step 1", "body 2", "step 3", "body 4"]
    assert [e.timestamp for e in merged] == sorted(e.timestamp for e in merged)
    first_two = KitaruClient().executions.logs(handle.exec_id, source="all", limit=2)
    assert [e.message for e in first_two] == ["body 0", "step 1"]


@pytest.mark.slow
def test_interactive_terminal_prompts_inline(tmp_path: Path) -> None:
    script = tmp_path / "interactive.py"
    script.write_text(
        textwrap.dedent("""
        from kitaru import flow, wait

        @flow
        def ask() -> int:
            return wait(name="count", schema=int, question="How many?") * 2

        if __name__ == "__main__":
            print("RESULT", ask.run().wait(timeout=60), flush=True)
    """)
    )
    env = dict(
        os.environ,
        KITARU_STORE_URL=f"sqlite:///{tmp_path / 'j.db'}",
        KITARU_ARTIFACT_STORE=str(tmp_path / "a"),
    )
    env.pop("KITARU_NO_PROMPT", None)
    primary, secondary = pty.openpty()
    errors = (tmp_path / "stderr.txt").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=secondary,
        stdout=secondary,
        stderr=errors,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen:
            assert time.monotonic() < deadline, (seen, (tmp_path / "stderr.txt").read_text())
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                seen += os.read(primary, 4096)

    try:
        read_until(b"How many?")
        os.write(primary, b"lots\n")  # not an int: asked again, nothing stored
        read_until(b"does not match")
        os.write(primary, b"21\n")
        read_until(b"RESULT 42")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
        errors.close()
        os.close(primary)
