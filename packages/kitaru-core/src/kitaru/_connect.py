"""``connect()``: choose the journal this user's Kitaru uses (persisted in the config file)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from kitaru import _userconfig
from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError


def connect(url: str, **options: Any) -> None:
    """Use the journal at ``url`` from now on (``sqlite:///path``,
    ``postgresql+psycopg://user:pw@host/db``). Checked by opening it before it is saved.

    ``KITARU_STORE_URL`` still wins over a connected URL. Kitaru servers (``http(s)://``)
    are not available yet.
    """
    if not isinstance(url, str) or not url.strip():
        raise KitaruUsageError("connect() needs a journal URL such as sqlite:///path/kitaru.db.")
    url = url.strip().rstrip("/") if url.startswith("http") else url.strip()
    scheme = urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        raise KitaruFeatureNotAvailableError(
            f"Connecting to a Kitaru server ({url}) is not available yet. Connect to a journal "
            "URL instead (sqlite:///... or postgresql+psycopg://...)."
        )
    if options:
        raise KitaruFeatureNotAvailableError(
            f"connect() options {sorted(options)} apply to Kitaru servers, which are not "
            "available yet."
        )
    from kitaru._config import artifact_store_uri
    from kitaru._runtime import Runtime, not_a_url, reset_default_runtime

    if not scheme:
        raise KitaruUsageError(not_a_url(url))

    runtime = Runtime.from_urls(url, artifact_store_uri())  # raises when it cannot be opened
    runtime.backend.list_executions(limit=1)
    runtime.close()
    _userconfig.update("connection", lambda _old: {"store_url": url})
    reset_default_runtime()


def saved_store_url() -> str | None:
    """The journal URL saved by :func:`connect` (None: the embedded default is used)."""
    connection = _userconfig.section("connection") or {}
    url = connection.get("store_url") if isinstance(connection, dict) else None
    return url if isinstance(url, str) and url else None


def disconnect() -> str | None:
    """Forget the journal saved by :func:`connect`: the embedded default journal
    (``<config>/kitaru.db``) is used again unless ``KITARU_STORE_URL`` names another.
    Returns the URL that was saved (None if there was none). Idempotent."""
    try:
        previous = saved_store_url()
    except KitaruUsageError:
        previous = None  # a corrupt file: update() below recovers it
    else:
        if previous is None:
            return None  # nothing saved: nothing to write
    _userconfig.update("connection", lambda _old: None)
    from kitaru._runtime import reset_default_runtime

    reset_default_runtime()
    return previous
