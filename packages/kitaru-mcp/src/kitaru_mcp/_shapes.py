"""The serialized shapes the tools return (SPEC §5, the same shapes as ``kitaru ... -o json``).

Built from :func:`kitaru.client.to_jsonable` (datetimes ISO, enums by value, ``None`` fields
dropped) so the MCP server and the CLI agree without importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kitaru.client import to_jsonable

if TYPE_CHECKING:
    from kitaru.client import ArtifactRef, Execution, PendingWait

__all__ = ["artifact", "artifact_with_value", "full", "pending_wait", "summaries", "summary"]

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
    return out


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
