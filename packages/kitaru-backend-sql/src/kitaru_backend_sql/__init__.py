"""Kitaru journal on SQLAlchemy: ``sqlite:///path`` (the embedded default) and
``postgresql[+psycopg]://...`` (shared by many processes and machines).

The names below are imported on first access, so loading the ``kitaru`` plugin entry point
(:mod:`kitaru_backend_sql.plugin`) does not import SQLAlchemy or Alembic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitaru_backend_sql._backend import PostgresSqlBackend, SqlBackend
    from kitaru_backend_sql._engine import SYNCHRONOUS_ENV
    from kitaru_backend_sql._fastread import SqliteReader
    from kitaru_backend_sql._url import mask_url

__all__ = ["SYNCHRONOUS_ENV", "PostgresSqlBackend", "SqlBackend", "SqliteReader", "mask_url"]

#: Public name -> the private module that defines it.
_HOMES = {
    "PostgresSqlBackend": "_backend",
    "SqlBackend": "_backend",
    "SqliteReader": "_fastread",
    "SYNCHRONOUS_ENV": "_engine",
    "mask_url": "_url",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    if hasattr(value, "__module__") and not isinstance(value, str):
        value.__module__ = __name__
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
