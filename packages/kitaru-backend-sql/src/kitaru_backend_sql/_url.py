"""Journal URLs: parsing, the default Postgres driver, and masking passwords for messages."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from kitaru.errors import KitaruUsageError
from sqlalchemy.exc import ArgumentError

__all__ = ["mask_url", "parse_url", "sqlite_path"]

_SUPPORTED = ("sqlite", "postgresql")


def mask_url(url: str | sa.URL) -> str:
    """``url`` as text with its password (if any) replaced by ``***``; safe for messages."""
    if isinstance(url, str):
        try:
            url = sa.make_url(url)
        except ArgumentError:
            return "<unparseable url>"
    return url.render_as_string(hide_password=True)


def parse_url(url: str | sa.URL) -> sa.URL:
    """Validate a journal URL and return it with the driver this package uses filled in.

    ``postgresql://`` means ``postgresql+psycopg://`` (psycopg 3). In-memory SQLite is refused:
    every pooled connection would see a different empty database.
    """
    try:
        parsed = sa.make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise KitaruUsageError(f"Not a database URL: {mask_url(url)!r} ({exc}).") from None
    backend = parsed.get_backend_name()
    if backend not in _SUPPORTED:
        raise KitaruUsageError(
            f"kitaru-backend-sql serves sqlite:// and postgresql:// URLs, not "
            f"{parsed.drivername}:// ({mask_url(parsed)})."
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise KitaruUsageError(
                f"In-memory SQLite ({mask_url(parsed)}) cannot hold a Kitaru journal; use a "
                "file (sqlite:///path/to/kitaru.db) or the memory:// backend."
            )
    return parsed


def sqlite_path(url: sa.URL) -> Path | None:
    """The database file of a SQLite URL, or None for ``uri=true`` URLs (left to SQLite)."""
    if str(url.query.get("uri", "")).lower() in ("1", "true"):
        return None
    return Path(url.database or "")
