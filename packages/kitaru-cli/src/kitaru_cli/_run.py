"""``kitaru run <module_or_file.py>:<flow>``: submit an execution to a detached worker, and
optionally follow it to its end (``--wait``)."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from kitaru_cli import _shapes
from kitaru_cli._common import open_client
from kitaru_cli._output import (
    OutputOption,
    Session,
    long_running,
    parse_json_option,
    session,
    usage_error,
)

if TYPE_CHECKING:
    from kitaru import FlowHandle, KitaruClient

__all__ = ["run_command"]

POLL_SECONDS = 0.25


def run_command(
    target: Annotated[
        str,
        typer.Argument(
            help="The flow: `path/to/file.py:flow_name` or `package.module:flow_name`.",
            metavar="<module_or_file.py>:<flow>",
        ),
    ],
    args: Annotated[
        str | None,
        typer.Option("--args", help="Flow inputs as a JSON object: '{\"x\": 2}'."),
    ] = None,
    stack: Annotated[str | None, typer.Option(help="Run on this stack.")] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Follow the execution to its end; exit 0 only if it completed."
        ),
    ] = False,
    output: OutputOption = "text",
) -> None:
    """Start an execution of a flow and return at once (it runs in a detached worker)."""
    with session("run", output) as out:
        flow_args = parse_json_option("--args", args, require_object=True) or {}
        if stack is not None and not stack.strip():
            raise usage_error("`--stack` must be a non-empty stack name.")
        from kitaru.targets import coerce_flow_inputs, load_flow_target

        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for our own output
            try:
                flow = load_flow_target(target)
            except Exception as exc:
                _import_failed(out, exc)
        flow_args = coerce_flow_inputs(flow, flow_args)
        if stack is not None:
            flow_args = {**flow_args, "stack": stack.strip()}  # an execution option of .run()
        client = open_client()  # before submitting: refuses a journal in a missing folder
        handle = flow.run_detached(**flow_args)
        if wait:
            raise typer.Exit(code=follow(out, client, handle, target))
        execution = client.executions.get(handle.exec_id)
        if out.json:
            out.emit_item(
                {
                    "exec_id": handle.exec_id,
                    "target": target,
                    "status": execution.status.value,
                    "execution": _shapes.full(execution),
                }
            )
            return
        out.snapshot(
            "Submitted execution",
            [
                ("Execution ID", handle.exec_id),
                ("Flow", execution.flow_name),
                ("Status", execution.status.value),
                ("Stack", execution.stack_name),
            ],
        )
        out.note(f"Follow it with: kitaru executions logs {handle.exec_id} --follow")


def _import_failed(out: Session, exc: Exception) -> NoReturn:
    """Report an error raised by the flow's module as it was imported (`raise` at module
    level, a failed import in it, a syntax error) with its type and where in the module it
    was raised; other errors (a target that names nothing, ...) propagate as they are."""
    from kitaru_cli._frames import Frame, raised_at

    where = raised_at(exc)
    text = str(exc).strip()
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        where = Frame(file=exc.filename, line=exc.lineno, function="<module>")
        text = exc.msg
    if where is None:
        raise exc
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    out.fail(
        exc,
        message=f"{message} (at {where}; raised while importing the flow's module)",
        extra={"file": where.file, "line": where.line, "function": where.function},
    )


def follow(
    out: Session,
    client: KitaruClient,
    handle: FlowHandle,
    target: str,
    *,
    announce: bool = True,
) -> int:
    """Poll until the execution ends; print its result (exit 0) or fail (exit 1).
    (``announce``: first print ``Submitted execution: <id>``.)"""
    long_running()
    exec_id = handle.exec_id
    if announce and not out.json:
        out.line(f"Submitted execution: {exec_id}")
    spinner = None
    if not out.json and _stderr_is_tty():
        from rich.console import Console

        spinner = Console(stderr=True, highlight=False).status(f"Execution {exec_id}: running")
        spinner.start()
    last: str | None = None
    try:
        while True:
            status = handle.status
            if status.value != last:
                last = status.value
                message = _progress(client, exec_id, status.value)
                if spinner is not None:
                    spinner.update(message)
                elif not out.json:
                    out.note(message)
            if status.is_finished:
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        if spinner is not None:
            spinner.stop()
        out.note(
            f"Stopped following execution {exec_id}; it keeps running. Follow it with "
            f"`kitaru executions logs {exec_id} --follow`."
        )
        return 1
    if spinner is not None:
        spinner.stop()
    from kitaru.client import to_jsonable

    if last == "failed" and not out.json:  # where, before the error itself
        for label, value in _shapes.failure_rows(client.executions.get(exec_id)):
            out.note(f"{label}: {value}")
    result = handle.get()  # raises the typed execution error unless it completed
    execution = client.executions.get(exec_id)
    if out.json:
        out.emit_item(
            {
                "exec_id": exec_id,
                "target": target,
                "status": execution.status.value,
                "result": to_jsonable(result),
                "execution": _shapes.full(execution),
            }
        )
    else:
        out.line(f"Execution {exec_id} completed.")
        out.line(f"Result: {_shapes.result_text(result)}")
    return 0


def _progress(client: KitaruClient, exec_id: str, status: str) -> str:
    if status == "waiting":
        waits = client.executions.pending_waits(exec_id)
        if waits:
            names = ", ".join(w.name for w in waits)
            commands = " or ".join(
                f"`{_shapes.answer_command(exec_id, w.name, only=len(waits) == 1)}`" for w in waits
            )
            return f"Execution {exec_id} is waiting for input on: {names} (answer with {commands})"
    return f"Execution {exec_id}: {status}"


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
