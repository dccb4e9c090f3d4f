"""The few parts of Kitaru core the CLI needs that core does not export publicly yet.

Every import of a private core module lives here, so that when core exposes these names
publicly only this file changes. Imports are local to each function: importing ``kitaru`` is
the most expensive thing the CLI does, and ``kitaru --help`` must not pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import Execution


def to_jsonable(value: Any) -> Any:
    """Core's JSON conversion of its public models (``None`` fields dropped)."""
    from kitaru._models import to_jsonable as convert

    return convert(value)


def is_flow(obj: Any) -> bool:
    """Whether ``obj`` is a ``@flow`` definition."""
    from kitaru._flow import Flow

    return isinstance(obj, Flow)


def load_module_from_file(path: str) -> Any:
    """Import a ``.py`` file the way core re-imports it in workers."""
    from kitaru._source import load_module_from_file as load

    return load(path)


def replay_detached(
    client: KitaruClient,
    exec_id: str,
    *,
    from_: str,
    overrides: Mapping[str, Any] | None,
    flow_inputs: Mapping[str, Any],
) -> Execution:
    """``client.executions.replay`` with the new execution submitted to a detached worker.

    Core's ``replay`` runs the new execution on a thread of the calling process, which would
    keep ``kitaru`` alive for as long as the flow runs or listens at a wait, and would let the
    flow's prints reach the CLI's stdout (breaking ``--output json``). Until core offers a
    detached replay, this repeats the submission steps of ``KitaruClient.executions.replay``
    and ``Flow.replay`` with ``detached=True``; it validates exactly as they do.
    """
    from kitaru._flow import Flow
    from kitaru._replay import plan_replay
    from kitaru._runtime import use_runtime
    from kitaru._source import load_source
    from kitaru.errors import KitaruStateError, KitaruUsageError

    runtime = client.runtime
    source, plan = plan_replay(runtime, exec_id, from_=from_, overrides=overrides)
    target = load_source(source.source)
    if not isinstance(target, Flow):
        raise KitaruStateError(
            f"'{source.source.qualname}' in {source.source.file or source.source.module} "
            "is no longer a @flow.",
            exec_id=source.exec_id,
        )
    previous = runtime.decode(source.inputs) if source.inputs else {"args": [], "kwargs": {}}
    with use_runtime(runtime):
        bound = target._bind(tuple(previous.get("args", ())), dict(previous.get("kwargs", {})))
        parameters = target._signature.parameters
        for key, value in flow_inputs.items():
            if key not in parameters:
                raise KitaruUsageError(
                    f"Flow '{target.name}' has no parameter '{key}'. Parameters: "
                    + ", ".join(parameters)
                    + "."
                )
            bound.arguments[key] = value
        handle = target._submit(
            bound, {}, replay_plan=plan, original_exec_id=source.exec_id, detached=True
        )
    return client.executions.get(handle.exec_id)
