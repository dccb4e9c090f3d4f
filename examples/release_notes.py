"""A durable flow with a human in the loop: research, wait for notes, draft, publish.

Run it with ``scripts/demo`` (or ``python examples/release_notes.py``). It starts an
execution, answers its wait from a *second process* (as a human at another terminal would),
prints the result, then replays the execution from ``write_draft`` with edited research.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import kitaru
from kitaru import KitaruClient, checkpoint, flow, wait


@checkpoint
def research(version: str) -> str:
    print(f"researching changes in {version}")
    return f"Draft about {version}."


@checkpoint(retries=2)
def write_draft(notes: str, extra: str) -> str:
    return f"{notes}\nNotes: {extra}"


@checkpoint
def publish(draft: str) -> str:
    return f"PUBLISHED: {draft}"


@flow
def release_notes(version: str) -> str:
    notes = research(version)
    kitaru.log(version=version)
    extra = wait(name="extra_notes", schema=str, question="Anything to add to the notes?")
    draft = write_draft(notes, extra)
    return publish(draft)


def _answer_from_another_process(exec_id: str, value: str) -> None:
    code = (
        "import sys; from kitaru import KitaruClient; "
        "KitaruClient().executions.input(sys.argv[1], wait='extra_notes', value=sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", code, exec_id, value], check=True)


def main() -> None:
    os.environ.setdefault("KITARU_NO_PROMPT", "1")  # answer from a second process, not here
    handle = release_notes.run("v1.0")
    print(f"started execution {handle.exec_id}")
    while handle.status.value != "waiting":
        time.sleep(0.05)
    print("waiting for input on 'extra_notes'; answering from a second process ...")
    _answer_from_another_process(handle.exec_id, "Bug fixes")
    result = handle.wait(timeout=60)
    print(f"result: {result!r}")

    client = KitaruClient()
    execution = client.executions.get(handle.exec_id)
    print(
        "checkpoints:",
        ", ".join(f"{c.invocation_id} ({c.status.value})" for c in execution.checkpoints),
    )
    replayed = client.executions.replay(
        handle.exec_id,
        from_="write_draft",
        overrides={"checkpoint.research": "Edited draft about v1.0."},
    )
    print(f"replayed as {replayed.exec_id}; it asks its wait again")
    while client.executions.get(replayed.exec_id).status.value != "waiting":
        time.sleep(0.05)
    _answer_from_another_process(replayed.exec_id, "Bug fixes and a faster journal")
    final = kitaru.FlowHandle(replayed.exec_id).wait(timeout=60)
    print(f"replay result: {final!r}")
    print(json.dumps({"exec_id": handle.exec_id, "replay_exec_id": replayed.exec_id}))


if __name__ == "__main__":
    main()
