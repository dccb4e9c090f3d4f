"""The serialized shapes the tools return (SPEC §5, the same shapes as ``kitaru ... -o json``).

Built from :func:`kitaru.client.to_jsonable` (datetimes ISO, enums by value, ``None`` fields
dropped) so the MCP server and the CLI agree without importing each other.

Records (executions, checkpoints, waits, artifacts) have the CLI's shapes. A tool that
returns a list is served as ``{"items": [...], "count": N}`` (the CLI's list document
without its ``command`` key) by :func:`as_item_list`: the MCP SDK would otherwise send a
bare list as one text block per item, and an empty list as no content at all.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kitaru.client import to_jsonable
from typing_extensions import TypedDict

if TYPE_CHECKING:
    from kitaru.client import ArtifactRef, Execution, PendingWait

__all__ = [
    "ItemList",
    "artifact",
    "artifact_with_value",
    "as_item_list",
    "drop_none",
    "full",
    "pending_wait",
    "summaries",
    "summary",
]

SUMMARY_FIELDS = (
    "exec_id",
    "flow_id",
    "flow_name",
    "status",
    "started_at",
    "ended_at",
    "stack_name",
    "status_reason",
    "pending_wait",
    "failure",
    "metadata",
)


def summary(execution: Execution) -> dict[str, Any]:
    """Execution summary: the §5 summary fields (``None`` omitted) plus the two counts."""
    out: dict[str, Any] = {}
    for key in SUMMARY_FIELDS:
        value = getattr(execution, key)
        if value is not None:
            out[key] = to_jsonable(value)
    checkpoints = execution.checkpoint_count
    artifacts = execution.artifact_count
    out["checkpoint_count"] = len(execution.checkpoints) if checkpoints is None else checkpoints
    out["artifact_count"] = len(execution.artifacts) if artifacts is None else artifacts
    return out


def summaries(executions: Iterable[Execution]) -> list[dict[str, Any]]:
    return [summary(e) for e in executions]


def full(execution: Execution) -> dict[str, Any]:
    """Full execution: the summary plus spec, replay source, checkpoints and artifacts."""
    out = summary(execution)
    for key, value in to_jsonable(execution).items():
        out.setdefault(key, value)
    out.setdefault("checkpoints", [])
    out.setdefault("artifacts", [])
    spec = out.get("frozen_execution_spec")
    if isinstance(spec, dict):  # settings only: a null there means "not set"
        out["frozen_execution_spec"] = drop_none(spec)
    return out


def drop_none(value: Any) -> Any:
    """``value`` with every ``None`` dict entry removed, at any depth."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def pending_wait(wait: PendingWait) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(wait)
    return data


def artifact(ref: ArtifactRef) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(ref)
    return data


def artifact_with_value(ref: ArtifactRef, value: Any) -> dict[str, Any]:
    """The artifact ref plus ``value``, ``value_format`` (``json`` or ``repr``) and
    ``value_type`` (the qualified type name of the loaded value)."""
    out = artifact(ref)
    converted, value_format = jsonable_value(value)
    out["value"] = converted
    out["value_format"] = value_format
    out["value_type"] = qualified_type_name(value)
    return out


def jsonable_value(value: Any) -> tuple[Any, str]:
    """``(value as JSON, "json")`` when the value has a JSON form, else ``(repr, "repr")``.

    Pydantic models are dumped in JSON mode; dataclasses, enums, datetimes, sets and tuples
    go through :func:`kitaru.client.to_jsonable`.
    """
    try:
        dump = getattr(value, "model_dump", None)
        converted = (
            dump(mode="json")
            if callable(dump) and not isinstance(value, type)
            else (to_jsonable(value))
        )
        json.dumps(converted, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value), "repr"
    return converted, "json"


def qualified_type_name(value: Any) -> str:
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class ItemList(TypedDict):
    """A list result: the items in order and how many there are."""

    items: list[dict[str, Any]]
    count: int


def as_item_list(fn: Callable[..., Iterable[Any]]) -> Callable[..., ItemList]:
    """``fn`` (a sync tool returning a list) as a tool returning ``{"items": [...], "count":
    N}``.

    The wrapper keeps ``fn``'s parameters (the input schema) and declares :class:`ItemList`
    as its return type, so the MCP SDK sends one JSON text block and the same document as
    structured content, with an output schema naming ``items`` and ``count``.
    """

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> ItemList:
        items = list(fn(*args, **kwargs))
        return {"items": items, "count": len(items)}

    signature = inspect.signature(fn, eval_str=True)
    call.__signature__ = signature.replace(return_annotation=ItemList)  # type: ignore[attr-defined]
    call.__annotations__ = {
        **{
            name: p.annotation
            for name, p in signature.parameters.items()
            if p.annotation is not inspect.Parameter.empty
        },
        "return": ItemList,
    }
    return call
