"""``log()``, ``save()`` and ``load()``."""

from __future__ import annotations

import json
import uuid
from typing import Any

from kitaru._clock import utcnow
from kitaru._context import CheckpointScope, current_checkpoint, current_flow
from kitaru._merge import merge_metadata
from kitaru._signals import LeaseLost
from kitaru.backend import ArtifactRecord, FencingError, Payload
from kitaru.errors import KitaruContextError, KitaruRuntimeError, KitaruUsageError

ARTIFACT_TYPES = ("blob", "context", "input", "output", "prompt", "response")


def log(**kwargs: Any) -> None:
    """Attach metadata to the current checkpoint (inside one) or to the execution.

    Same key again: dict values merge key-wise, other values are replaced.
    """
    ctx = current_flow()
    if ctx is None:
        raise KitaruContextError("kitaru.log() can only be called inside a @flow.")
    if not kwargs:
        return
    try:
        json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        raise KitaruUsageError(f"kitaru.log() values must be JSON-serializable: {exc}") from exc
    scope = current_checkpoint()
    if scope is not None:
        merged = merge_metadata(scope.metadata, kwargs)
        scope.metadata.clear()
        scope.metadata.update(merged)
        return
    try:
        ctx.runtime.backend.merge_metadata(ctx.exec_id, ctx.epoch, kwargs)
    except FencingError:
        raise LeaseLost() from None


def save(name: str, value: Any, *, type: str = "output", tags: list[str] | None = None) -> None:
    """Store ``value`` as a named artifact of the current checkpoint."""
    scope, name, kind, tags = _checked("kitaru.save()", name, type, tags)
    stage_artifact(scope, name, scope.flow.runtime.encode(value), kind, tags)


def _checked(what: str, name: Any, type: Any, tags: Any) -> tuple[CheckpointScope, str, str, Any]:
    scope = current_checkpoint()
    if scope is None:
        raise KitaruContextError(f"{what} can only be called inside a @checkpoint.")
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("Artifact name must be a non-empty string.")
    kind = type.strip().lower() if isinstance(type, str) else None
    if kind not in ARTIFACT_TYPES:
        raise KitaruUsageError(
            f"Unsupported Kitaru artifact type {type!r}. Expected one of: "
            + ", ".join(ARTIFACT_TYPES)
            + "."
        )
    if tags is not None and (
        not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags)
    ):
        raise KitaruUsageError("tags must be a list of strings.")
    return scope, name.strip(), kind, tags


def stage_artifact(
    scope: CheckpointScope, name: str, payload: Payload, kind: str, tags: Any = None
) -> None:
    """Queue an encoded artifact of ``scope``'s call: journaled with the call (or its next
    event), in the same commit."""
    ctx = scope.flow
    artifact = ArtifactRecord(
        artifact_id=str(uuid.uuid4()),
        exec_id=ctx.exec_id,
        name=name,
        payload=payload,
        save_type="manual",
        invocation_id=scope.invocation_id,
        kind=kind,
        tags=tuple(tags or ()),
        metadata={"kitaru_artifact_type": kind},
        created_at=utcnow(),
    )
    scope.pending_artifacts.append(artifact)


def load(exec_id: str, name: str) -> Any:
    """Load a ``save()``d artifact, or a checkpoint's return value, of another execution."""
    scope = current_checkpoint()
    if scope is None:
        raise KitaruContextError("kitaru.load() can only be called inside a @checkpoint.")
    try:
        uuid.UUID(str(exec_id))
    except ValueError:
        raise KitaruUsageError(f"exec_id must be an execution UUID, got {exec_id!r}.") from None
    if not isinstance(name, str) or not name.strip():
        raise KitaruUsageError("Artifact name must be a non-empty string.")
    runtime = scope.flow.runtime
    return runtime.decode(find_artifact(runtime.backend, exec_id, name.strip()).payload)


def find_artifact(backend: Any, exec_id: str, name: str) -> ArtifactRecord:
    """The artifact ``name`` names in the execution (SPEC decision 23).

    In order: a ``save()``d artifact with that name, or a checkpoint's return value by the
    checkpoint's invocation id (``add_2``) or name (``add``); failing those, a checkpoint's
    return value by its output name (``"output"``, as the original Kitaru named it).
    Several matches at one level: :class:`KitaruRuntimeError` listing them; none: one listing
    what there is.
    """
    calls = {c.invocation_id: c for c in backend.get_calls(exec_id)}
    artifacts = backend.list_artifacts(exec_id)
    manual = [a for a in artifacts if a.save_type == "manual"]
    outputs = [a for a in artifacts if a.save_type == "step_output" and a.invocation_id is not None]

    def checkpoint_name(artifact: ArtifactRecord) -> str | None:
        call = calls.get(artifact.invocation_id)
        return call.name if call is not None else None

    matches = [a for a in manual if a.name == name] + [
        a for a in outputs if name in (a.invocation_id, checkpoint_name(a))
    ]
    if not matches:
        matches = [a for a in outputs if a.name == name]
    if not matches:
        available = []
        if manual:
            saved = ", ".join(dict.fromkeys(a.name for a in manual))
            available.append(f"saved artifacts: {saved}")
        if outputs:
            ids = ", ".join(dict.fromkeys(str(a.invocation_id) for a in outputs))
            available.append(f"checkpoint outputs (by checkpoint name or invocation id): {ids}")
        raise KitaruRuntimeError(
            f"No artifact named '{name}' was found in execution {exec_id}. "
            + ("Available: " + "; ".join(available) + "." if available else "It has none.")
        )
    if len(matches) > 1:
        listing = ", ".join(f"{a.invocation_id}/{a.name} ({a.save_type})" for a in matches)
        raise KitaruRuntimeError(
            f"Multiple artifacts named '{name}' in execution {exec_id}: {listing}. Use a "
            "unique name (or the checkpoint's invocation id)."
        )
    found: ArtifactRecord = matches[0]
    return found
