"""Kitaru journal on SQLAlchemy: ``sqlite:///path`` (the embedded default) and
``postgresql[+psycopg]://...`` (shared by many processes and machines)."""

from kitaru_backend_sql._backend import PostgresSqlBackend, SqlBackend
from kitaru_backend_sql._engine import SYNCHRONOUS_ENV
from kitaru_backend_sql._url import mask_url

__all__ = ["SYNCHRONOUS_ENV", "PostgresSqlBackend", "SqlBackend", "mask_url"]

for _obj in (PostgresSqlBackend, SqlBackend, mask_url):
    _obj.__module__ = "kitaru_backend_sql"
del _obj
