"""Secrets: named sets of ``KEY=value`` pairs kept in the journal (so every process that can
reach the journal can use them). Values are never printed unless asked for."""

from __future__ import annotations

from kitaru.errors import KitaruUsageError


def secret_values(name: str) -> dict[str, str]:
    from kitaru._runtime import current_runtime

    backend = current_runtime().backend
    try:
        return dict(backend.get_secret(name).values)
    except LookupError:
        raise KitaruUsageError(
            f"Secret '{name}' does not exist. Create it with `kitaru secrets set {name} "
            "--KEY=value`."
        ) from None
