"""Planning a replay: which calls of the source execution are reused, which are overridden."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kitaru import _liveness
from kitaru.backend import CallRecord, CallState, ExecutionRecord, ExecutionState, Payload
from kitaru.errors import KitaruStateError, KitaruUsageError

if TYPE_CHECKING:
    from kitaru._runtime import Runtime


def select_call(calls: list[CallRecord], selector: str, *, exec_id: str) -> CallRecord:
    """A call whose invocation id or call id equals ``selector``, else the one named so."""
    exact = [c for c in calls if selector in (c.invocation_id, c.call_id)]
    if exact:
        return exact[0]
    named = [c for c in calls if c.name == selector]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise KitaruStateError(
            f"Checkpoint selector '{selector}' is ambiguous in execution '{exec_id}': it "
            "matches " + ", ".join(c.invocation_id for c in named) + ". Use one of these "
            "invocation ids (or a call id).",
            exec_id=exec_id,
        )
    raise KitaruStateError(
        f"Unknown checkpoint selector '{selector}'. Available checkpoints: "
        + ", ".join(c.invocation_id for c in calls)
        + ".",
        exec_id=exec_id,
    )


def payload_to_json(payload: Payload) -> dict[str, Any]:
    out: dict[str, Any] = {
        "serializer": payload.serializer,
        "type_ref": payload.type_ref,
        "size": payload.size,
        "sha256": payload.sha256,
    }
    if payload.inline is not None:
        out["inline_b64"] = base64.b64encode(payload.inline).decode()
    else:
        out["uri"] = payload.uri
    return out


def payload_from_json(data: Mapping[str, Any]) -> Payload:
    inline = data.get("inline_b64")
    return Payload(
        serializer=data["serializer"],
        type_ref=data.get("type_ref"),
        inline=base64.b64decode(inline) if inline is not None else None,
        uri=data.get("uri"),
        size=int(data.get("size", 0)),
        sha256=data.get("sha256", ""),
    )


def validate_override_keys(overrides: Mapping[str, Any]) -> dict[str, Any]:
    selectors: dict[str, Any] = {}
    for key, value in overrides.items():
        if not isinstance(key, str):
            raise KitaruUsageError(f"Override keys must be strings, got {key!r}.")
        if key.startswith("wait."):
            raise KitaruUsageError(
                f"Wait overrides (`wait.*`) are not supported in replay (got '{key}'): a "
                "replayed execution asks its waits again; answer them with `kitaru "
                "executions input`."
            )
        if not key.startswith("checkpoint."):
            raise KitaruUsageError(
                f"Override keys must start with `checkpoint.`. Received: '{key}'."
            )
        selector = key[len("checkpoint.") :].strip()
        if not selector:
            raise KitaruUsageError(f"Override key '{key}' names no checkpoint.")
        selectors[selector] = value
    return selectors


def plan_replay(
    runtime: Runtime,
    exec_id: str,
    *,
    from_: Any,
    overrides: Mapping[str, Any] | None,
) -> tuple[ExecutionRecord, dict[str, Any]]:
    if not isinstance(from_, str) or not from_.strip():
        raise KitaruUsageError("Replay needs from_: a checkpoint name, invocation id or call id.")
    if overrides is not None and not isinstance(overrides, Mapping):
        raise KitaruUsageError("overrides must be a dict of 'checkpoint.<selector>': value.")
    selectors = validate_override_keys(overrides or {})
    backend = runtime.backend
    source = _liveness.reap(backend, backend.get_execution(exec_id))
    if source.state in (ExecutionState.PENDING, ExecutionState.RUNNING):
        raise KitaruStateError(
            f"Execution '{exec_id}' is still running; replay it once it has finished or is "
            "waiting.",
            exec_id=exec_id,
            status=source.state,
        )
    calls = backend.get_calls(exec_id)
    if not calls:
        raise KitaruStateError(
            f"Execution '{exec_id}' has no checkpoint history to replay.", exec_id=exec_id
        )
    target = select_call(calls, from_.strip(), exec_id=exec_id)
    frontier = target.seq
    override_payloads: dict[str, Any] = {}
    for selector, value in selectors.items():
        call = select_call(calls, selector, exec_id=exec_id)
        frontier = min(frontier, call.seq)
        override_payloads[call.invocation_id] = payload_to_json(runtime.encode(value))
    reuse = {
        c.invocation_id: c.output_artifact_id
        for c in calls
        if c.seq < frontier
        and c.state is CallState.COMPLETED
        and c.output_artifact_id is not None
        and c.invocation_id not in override_payloads
    }
    plan = {
        "source_exec_id": exec_id,
        "from": target.invocation_id,
        "reuse": reuse,
        "overrides": override_payloads,
    }
    return source, plan


def override_value(func: Callable[..., Any], invocation_id: str, value: Any) -> Any:
    """A replay override converted to the checkpoint's declared return type (as pydantic
    converts: a JSON object to a model, "3" to 3); a value it cannot take is refused,
    naming the checkpoint and the type. Without a usable annotation the value is kept."""
    import typing

    try:
        annotation = typing.get_type_hints(func).get("return")
    except Exception:  # an annotation that cannot be resolved here: nothing to check
        return value
    if annotation is None or annotation is Any:
        return value
    import pydantic

    try:
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
    except Exception:  # a type pydantic cannot describe: nothing to check
        return value
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise KitaruUsageError(
            f"The replay override of checkpoint '{invocation_id}' does not fit its return type "
            f"{getattr(annotation, '__name__', annotation)}: {problems} (got {value!r:.200}). "
            "Replay again with an override of that type."
        ) from None
