"""Stack types decide where segments run. The built-in ``local`` stack type runs a new
execution on a thread of the submitting process, and continues executions (after input,
``resume`` or ``retry``) in a detached worker process that re-imports the flow."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from kitaru._config import config_dir
from kitaru.backend import ExecutionRecord
from kitaru.errors import KitaruUsageError

if TYPE_CHECKING:
    from kitaru._flow import Flow
    from kitaru._runtime import Runtime

__all__ = ["LocalRunner", "Runner", "runner_for"]


class Runner(ABC):
    """Runs segments of executions for one stack type."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @abstractmethod
    def start(self, exec_id: str, flow: Flow[..., Any]) -> None:
        """Run a new ``pending`` execution whose flow object this process holds."""

    @abstractmethod
    def continue_execution(self, exec_id: str) -> None:
        """Run a ``pending`` execution from any process (re-importing the flow as needed)."""


class LocalRunner(Runner):
    """Threads in this process; detached worker processes for continuations."""

    def start(self, exec_id: str, flow: Flow[..., Any]) -> None:
        from contextvars import copy_context

        from kitaru._engine import run_segment

        context = copy_context()
        thread = threading.Thread(
            target=context.run,
            args=(run_segment, self.runtime, exec_id, flow),
            name=f"kitaru-flow-{exec_id[:8]}",
            daemon=False,
        )
        thread.start()

    def continue_execution(self, exec_id: str) -> None:
        if not self.runtime.cross_process:
            # The journal lives in this process only: continue here, on a thread.
            from kitaru._source import load_source

            record = self.runtime.backend.get_execution(exec_id)
            self.start(exec_id, load_source(record.source))
            return
        spawn_worker(self.runtime, exec_id)


def spawn_worker(runtime: Runtime, exec_id: str) -> subprocess.Popen[bytes]:
    """Start ``python -m kitaru._worker <exec_id>`` detached from this process.

    The worker's host, pid and the execution's epoch are written to
    ``<config>/workers/<exec_id>.claim``: a worker that dies before it takes the execution
    (killed while importing the flow, say) leaves it ``pending`` with no lease, and this claim
    is how :func:`kitaru._liveness.reap` tells that from a worker still starting.
    """
    from kitaru import _liveness

    log_dir = config_dir() / "workers"
    log_dir.mkdir(parents=True, exist_ok=True)
    epoch = runtime.backend.get_execution(exec_id).epoch
    env = runtime.worker_env()
    env["KITARU_WORKER"] = "1"
    with open(log_dir / f"{exec_id}.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kitaru._worker", exec_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=os.getcwd(),
            start_new_session=True,
            close_fds=True,
        )
    _liveness.write_claim(exec_id, pid=proc.pid, epoch=epoch)
    # Reap the worker when it exits (no zombie, no "still running" warning); the worker itself
    # is independent of this process and keeps running if this process exits first.
    threading.Thread(target=proc.wait, name=f"kitaru-reap-{exec_id[:8]}", daemon=True).start()
    return proc


def runner_for(runtime: Runtime, execution: ExecutionRecord) -> Runner:
    from kitaru._stacks import stack_type_of

    try:
        stack_type = stack_type_of(execution.stack)
    except KitaruUsageError as exc:
        raise KitaruUsageError(
            f"Execution '{execution.exec_id}' runs on stack '{execution.stack}', which cannot "
            f"be used: {exc} Recreate the stack (`kitaru stack create {execution.stack}`) to "
            "continue it, or cancel the execution."
        ) from exc
    types = runtime.stack_types()
    if stack_type not in types:
        raise KitaruUsageError(
            f"Stack type '{stack_type}' of stack '{execution.stack}' is not installed. "
            f"Installed stack types: {', '.join(sorted(types))}."
        )
    runner: Runner = types[stack_type](runtime)
    return runner
