"""The artifact tools: list an execution's artifacts and read one with its value."""

from __future__ import annotations

from typing import Annotated, Any

from kitaru import KitaruClient
from pydantic import Field

from kitaru_mcp import _shapes
from kitaru_mcp._executions import ExecId

__all__ = ["kitaru_artifacts_get", "kitaru_artifacts_list"]


def kitaru_artifacts_list(
    exec_id: ExecId,
    name: Annotated[str | None, Field(description="Only artifacts with this exact name.")] = None,
    kind: Annotated[
        str | None,
        Field(
            description="Only save()d artifacts of this kind: the type= given to "
            "kitaru.save() ('output' by default; also blob, context, input, prompt, "
            "response). Checkpoint return values and the flow result have no kind."
        ),
    ] = None,
    producing_call: Annotated[
        str | None,
        Field(
            description="Only artifacts produced by checkpoints with this name (every "
            "invocation of it)."
        ),
    ] = None,
    limit: Annotated[
        int | None, Field(description="Return at most this many artifacts.", ge=1)
    ] = None,
) -> list[dict[str, Any]]:
    """List an execution's artifacts: checkpoint outputs, save()d values and the flow result.

    Returns {"items": [...], "count": N}; "items" is empty when nothing matches. Each item
    has artifact_id, name, kind, save_type (step_output, manual, flow_output),
    producing_call (the checkpoint's name) and metadata; the values are not included: read
    one with kitaru_artifacts_get.
    """
    client = KitaruClient()
    refs = client.artifacts.list(
        client.executions.resolve_id(exec_id),
        name=name,
        kind=kind,
        producing_call=producing_call,
        limit=limit,
    )
    return [_shapes.artifact(ref) for ref in refs]


def kitaru_artifacts_get(
    artifact_id: Annotated[
        str,
        Field(
            description="The artifact id (from kitaru_artifacts_list or an execution).",
            min_length=1,
        ),
    ],
) -> dict[str, Any]:
    """Get one artifact with its value.

    The artifact's fields plus value (the value as JSON when it has a JSON form, else its
    Python repr as a string; null when the saved value is None), value_format ("json" or
    "repr") and value_type (the value's qualified Python type name).
    """
    client = KitaruClient()
    ref = client.artifacts.get(artifact_id)
    return _shapes.artifact_with_value(ref, client.artifacts.load(ref.artifact_id))
