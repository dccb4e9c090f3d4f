"""The ``kitaru`` entry point of this distribution: registers the ``sqlite`` and ``postgresql``
URL schemes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kitaru import hookimpl

__all__ = ["kitaru_register_backends"]


def _open(url: str) -> Any:
    # Imported here so loading the plugin stays cheap: SQLAlchemy and Alembic are imported
    # only when a journal is actually opened.
    from kitaru_backend_sql._backend import SqlBackend

    return SqlBackend(url)


@hookimpl
def kitaru_register_backends(register: Callable[..., None]) -> None:
    """Serve ``sqlite:///path`` and ``postgresql[+psycopg]://...`` journals."""
    register("sqlite", _open)
    register("postgresql", _open)
