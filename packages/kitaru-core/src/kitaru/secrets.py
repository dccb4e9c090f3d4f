"""Secrets kept in the journal: named sets of ``KEY=value`` pairs.

Every process that reaches the journal can read them (``llm()`` uses an alias's secret for
credentials). Values are never shown unless asked for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from kitaru._clock import utcnow
from kitaru._runtime import current_runtime
from kitaru.backend import NotFoundError, SecretRecord
from kitaru.errors import KitaruUsageError

__all__ = ["SecretRecord", "delete_secret", "get_secret", "list_secrets", "set_secret"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def set_secret(name: str, values: Mapping[str, str]) -> tuple[SecretRecord, bool]:
    """Create or replace a secret; returns it and whether it was created."""
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise KitaruUsageError(
            f"Invalid secret name {name!r}: use letters, digits, '_', '-' and '.'."
        )
    if not isinstance(values, Mapping) or not values:
        raise KitaruUsageError("A secret needs at least one KEY=value pair.")
    for key, value in values.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise KitaruUsageError(
                f"Invalid secret key {key!r}: keys look like environment variables "
                "([A-Za-z_][A-Za-z0-9_]*)."
            )
        if not isinstance(value, str) or value == "":
            raise KitaruUsageError(f"Secret key '{key}' needs a non-empty value.")
    backend = current_runtime().backend
    name = name.strip()
    try:
        backend.get_secret(name)
        created = False
    except NotFoundError:
        created = True
    now = utcnow()
    record = backend.put_secret(
        SecretRecord(
            secret_id=str(uuid.uuid4()),
            name=name,
            values=dict(values),
            created_at=now,
            updated_at=now,
        )
    )
    return record, created


def get_secret(name_or_id: str) -> SecretRecord:
    """The secret (by id, else name); :class:`~kitaru.backend.NotFoundError` if missing."""
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("Give a secret name or id.")
    return current_runtime().backend.get_secret(name_or_id.strip())


def list_secrets() -> list[SecretRecord]:
    return current_runtime().backend.list_secrets()


def delete_secret(name_or_id: str) -> SecretRecord:
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise KitaruUsageError("Give a secret name or id.")
    return current_runtime().backend.delete_secret(name_or_id.strip())
