"""Prebuilt Core statements run on the DB-API cursor itself: the checkpoint hot path.

A checkpoint commit is a handful of tiny statements, and SQLAlchemy's per-execution work
(execution context, parameter processing, result wrapping, events) costs about 0.1 ms of
Python each, several times what SQLite needs to run them. So :class:`DriverStatement`
compiles a Core statement once for the engine's dialect and keeps the SQL string plus, per
parameter, the dialect's own bind processor (the same conversion SQLAlchemy would apply:
UTC datetimes, JSON, booleans). Executing it is then one ``cursor.execute`` with a tuple (or
dict) of already converted values, so rows written here read back through Core exactly like
rows Core wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["DriverStatement", "UnstorableValueError"]


class UnstorableValueError(ValueError):
    """A bind processor refused a value (a naive datetime, data that is not JSON)."""


class DriverStatement:
    """``statement`` compiled for ``dialect``: :attr:`sql` and :meth:`bind` for DB-API.

    ``keys`` are the parameter keys every execution passes (for an INSERT, the columns to
    write; they choose the columns, as the keys of the first parameter set do in Core).
    Parameters with a fixed value in the statement (literals in a WHERE clause) are bound
    once, here.
    """

    __slots__ = ("_constants", "_get", "_names", "_positional", "_processors", "keys", "sql")

    def __init__(
        self, statement: sa.ClauseElement, dialect: Dialect, keys: Sequence[str] = ()
    ) -> None:
        compiled = cast(
            SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys) or None)
        )
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("expanding parameters cannot be prebuilt")
        self.sql: str = compiled.string
        self.keys = tuple(keys)
        self._positional = bool(compiled.positional)
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        escaped: dict[str, str] = compiled.escaped_bind_names or {}
        wanted: list[str] = []  # caller's keys, in parameter order
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        constants: list[tuple[int, Any]] = []  # (final position, converted value)
        names: list[str] = []
        positions = compiled.positiontup if self._positional else list(by_name)
        for position, name in enumerate(positions or ()):
            bind = by_name[name]
            names.append(escaped.get(name, name))
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                if processor is not None:
                    processors.append((len(wanted), processor))
                wanted.append(bind.key)
            else:
                value = bind.effective_value
                constants.append((position, processor(value) if processor else value))
        self._names = tuple(names)
        self._processors = tuple(processors)
        self._constants = tuple(constants)
        getter = itemgetter(*wanted) if wanted else (lambda _values: ())
        self._get: Callable[[Mapping[str, Any]], Any] = (
            (lambda values: (getter(values),)) if len(wanted) == 1 else getter
        )

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The DB-API parameters for ``values`` (keyed by parameter key), converted."""
        row = list(self._get(values))
        try:
            for index, process in self._processors:
                row[index] = process(row[index])
        except (TypeError, ValueError) as error:
            raise UnstorableValueError(str(error)) from error
        for position, value in self._constants:
            row.insert(position, value)
        if self._positional:
            return tuple(row)
        return dict(zip(self._names, row, strict=True))
