"""``SqliteReader``: reads a SQLite journal with the standard library's ``sqlite3``.

Short-lived read-only commands (``kitaru executions list``/``get``) pay more for importing
SQLAlchemy (about 120 ms) and for its per-row result processing (about 200 ms for 10,000
executions) than for the queries themselves. This backend answers the reads such commands make
(:data:`FAST_READS`) with plain ``sqlite3`` on a read-only connection (``mode=ro``: it can
never create, migrate or change the journal) and returns the same records as
:class:`~kitaru_backend_sql.SqlBackend`: rows are converted as SQLAlchemy converts them (JSON
text with ``json.loads``, ``DATETIME`` text with ``datetime.fromisoformat`` made UTC) and then
decoded by the same functions (``_codec``).

Everything else is delegated to a :class:`~kitaru_backend_sql.SqlBackend` on the same URL,
created on first need, so the behaviour is the normal one wherever the fast path does not
apply:

* writes (the client's lost-runner check may mark an execution failed) and reads not in
  :data:`FAST_READS`;
* every call when the journal file does not exist yet, is not at :data:`SCHEMA_REVISION` (an
  older journal is migrated, a newer one refused, exactly as before), or the URL is anything
  but a plain ``sqlite:///path``;
* one call whose rows hold something the fast conversion does not handle exactly as
  SQLAlchemy does (a non-text JSON or ``DATETIME`` value), or that fails in ``sqlite3``.

Reads run in one deferred transaction each (a WAL snapshot that never blocks the runner
writing the journal), like :class:`~kitaru_backend_sql.SqlBackend`'s.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from kitaru.backend import (
    ArtifactRecord,
    AttemptRecord,
    Backend,
    CallRecord,
    Capability,
    ExecutionNotFoundError,
    ExecutionRecord,
    ExecutionState,
    LeaseRecord,
    NotFoundError,
    Payload,
    WaitRecord,
)

from kitaru_backend_sql import _codec as codec

__all__ = ["FAST_READS", "SCHEMA_REVISION", "SqliteReader"]

#: The schema revision whose tables this module reads (``_migrate.HEAD_REVISION``; a test
#: keeps the two equal). A journal at any other revision is served by ``SqlBackend``.
SCHEMA_REVISION = "0004"

#: The contract methods answered with ``sqlite3``; the rest go to ``SqlBackend``.
FAST_READS = frozenset(
    {
        "count_children",
        "find_execution_ids",
        "get_artifact",
        "get_attempts",
        "get_calls",
        "get_execution",
        "get_waits",
        "list_artifacts",
        "list_executions",
    }
)

BUSY_TIMEOUT_SECONDS = 30
#: Ids per ``IN (...)`` list (below SQLite's oldest limit of 999 parameters).
_CHUNK = 900
_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")

T = TypeVar("T")

# The columns read per table, in schema order, each with the kind of value SQLAlchemy
# converts (``tests/unit/test_sql_fastread_columns.py`` checks them against ``_schema``).
_JSON = "json"
_TIME = "time"
_JSON_COLUMNS = frozenset(
    {
        "failure",
        "metadata",
        "parent_invocation_ids",
        "replay_plan",
        "schema",
        "source",
        "spec",
        "tags",
        "value",
    }
)


def _columns(names: str) -> tuple[tuple[str, str | None], ...]:
    return tuple(
        (name, _JSON if name in _JSON_COLUMNS else _TIME if name.endswith("_at") else None)
        for name in names.split()
    )


_EXECUTIONS = _columns(
    "exec_id flow_name source inputs_serializer inputs_type_ref inputs_inline inputs_uri "
    "inputs_size inputs_sha256 spec stack state status_reason failure result_artifact_id "
    "original_exec_id replay_plan metadata created_at started_at ended_at epoch lease_owner "
    "lease_host lease_pid lease_heartbeat_at lease_expires_at cancel_requested round"
)
_CALLS = _columns(
    "exec_id invocation_id seq name call_id checkpoint_type state started_at ended_at "
    "output_artifact_id cache_key cached_from overridden failure metadata parent_invocation_ids"
)
_ATTEMPTS = _columns("exec_id attempt_id invocation_id number state started_at ended_at failure")
_WAITS = _columns(
    "exec_id wait_id name schema question metadata state value created_at resolved_at"
)
_ARTIFACTS = _columns(
    "artifact_id exec_id invocation_id name payload_serializer payload_type_ref payload_inline "
    "payload_uri payload_size payload_sha256 save_type kind tags metadata created_at"
)

#: Calls and artifacts (adapters' internal ``event`` artifacts left out) per execution, as
#: ``DataOps.count_children`` counts them; a WHERE clause on ``e`` follows.
_COUNTS = (
    "SELECT e.exec_id, "
    "(SELECT count(*) FROM calls WHERE calls.exec_id = e.exec_id), "
    "(SELECT count(*) FROM artifacts WHERE artifacts.exec_id = e.exec_id "
    "AND artifacts.save_type != 'event') "
    "FROM executions AS e "
)


class _NotFast(Exception):
    """This call is answered by ``SqlBackend`` instead (see the module docstring)."""


def _select(table: str, columns: Sequence[tuple[str, str | None]]) -> str:
    names = ", ".join('"' + name + '"' for name, _ in columns)
    return f"SELECT {names} FROM {table}"


def _path_of(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for anything else (query strings,
    percent-escapes and in-memory databases are left to SQLAlchemy's URL parsing)."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            database = url[len(prefix) :]
            if not database or "?" in database or "%" in database or database == ":memory:":
                return None
            return Path(database)
    return None


class SqliteReader(Backend):
    """The SQLite journal at ``url``, read with ``sqlite3``; see the module docstring.

    Construction does no I/O. Fit for short-lived read-mostly processes (the ``kitaru``
    command line); runners use :class:`~kitaru_backend_sql.SqlBackend`.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CROSS_PROCESS})

    def __init__(self, url: str) -> None:
        self._url = url
        self._path = _path_of(url)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._fast: bool | None = None  # decided on first use
        self._full: Backend | None = None

    def __repr__(self) -> str:
        return f"SqliteReader({self._url!r})"

    @property
    def uses_sqlite3(self) -> bool:
        """Whether reads are served by ``sqlite3`` (False: everything goes to SqlBackend).

        Decided on first access, by opening the journal read-only and checking its schema
        revision.
        """
        with self._lock:
            if self._fast is None:
                self._fast = self._open()
            return self._fast

    def _open(self) -> bool:
        if self._path is None or not self._path.is_file():
            return False  # SqlBackend creates (or explains) it, as before
        uri = f"file:{quote(str(self._path.absolute()))}?mode=ro"
        try:
            connection = sqlite3.connect(
                uri,
                uri=True,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error:
            return False
        try:
            revisions = {
                r for (r,) in connection.execute("SELECT version_num FROM alembic_version")
            }
        except sqlite3.Error:
            revisions = set()
        if revisions != {SCHEMA_REVISION}:
            connection.close()
            return False
        self._connection = connection
        return True

    def full_backend(self) -> Backend:
        """The :class:`~kitaru_backend_sql.SqlBackend` on the same URL (created on first use)."""
        with self._lock:
            if self._full is None:
                from kitaru_backend_sql._backend import SqlBackend

                self._full = SqlBackend(self._url)
            return self._full

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
                self._fast = None
            if self._full is not None:
                self._full.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _read(self, name: str, fast: Callable[[], T], *args: Any, **kwargs: Any) -> T:
        """``fast()`` on the read-only connection, else ``SqlBackend.<name>(*args, **kwargs)``."""
        if self.uses_sqlite3:
            try:
                return fast()
            except (_NotFast, sqlite3.Error):
                pass
        method: Callable[..., T] = getattr(self.full_backend(), name)
        return method(*args, **kwargs)

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._connection
            if connection is None:
                raise _NotFast
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("COMMIT")

    def _exists(self, connection: sqlite3.Connection, exec_id: str) -> bool:
        row = connection.execute("SELECT 1 FROM executions WHERE exec_id = ?", (exec_id,))
        return row.fetchone() is not None

    def _rows_of(
        self, exec_id: str, table: str, columns: Sequence[tuple[str, str | None]], order: str
    ) -> list[dict[str, Any]]:
        """The execution's rows of ``table``; :class:`ExecutionNotFoundError` for none if the
        execution does not exist."""
        sql = f"{_select(table, columns)} WHERE exec_id = ? ORDER BY {order}"
        with self._snapshot() as connection:
            rows = connection.execute(sql, (exec_id,)).fetchall()
            if not rows and not self._exists(connection, exec_id):
                raise ExecutionNotFoundError(exec_id)
        return _decode(rows, columns)

    # -- executions --------------------------------------------------------------------------

    def get_execution(self, exec_id: str) -> ExecutionRecord:
        """Return the execution, or raise :class:`ExecutionNotFoundError`."""

        def fast() -> ExecutionRecord:
            sql = f"{_select('executions', _EXECUTIONS)} WHERE exec_id = ?"
            with self._snapshot() as connection:
                rows = connection.execute(sql, (exec_id,)).fetchall()
            if not rows:
                raise ExecutionNotFoundError(exec_id)
            return _execution_records(rows)[0]

        return self._read("get_execution", fast, exec_id)

    def list_executions(
        self,
        *,
        flow_name: str | None = None,
        states: Sequence[ExecutionState] | None = None,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        """Executions newest first (by ``created_at``, then ``exec_id``), optionally filtered."""

        def fast() -> list[ExecutionRecord]:
            where: list[str] = []
            params: list[Any] = []
            if flow_name is not None:
                where.append("flow_name = ?")
                params.append(flow_name)
            if states is not None:
                values = [ExecutionState(s).value for s in states]
                where.append(f"state IN ({', '.join('?' * len(values)) or 'NULL'})")
                params.extend(values)
            sql = _select("executions", _EXECUTIONS)
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY created_at DESC, exec_id DESC"
            if limit is not None:
                sql += " LIMIT ?"
                params.append(limit)
            with self._snapshot() as connection:
                rows = connection.execute(sql, params).fetchall()
            return _execution_records(rows)

        return self._read("list_executions", fast, flow_name=flow_name, states=states, limit=limit)

    def find_execution_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Ids starting with ``prefix`` (case-sensitive, no wildcards), sorted, at most
        ``limit``."""

        def fast() -> list[str]:
            sql = (
                "SELECT exec_id FROM executions WHERE substr(exec_id, 1, ?) = ? "
                "ORDER BY exec_id LIMIT ?"
            )
            with self._snapshot() as connection:
                rows = connection.execute(sql, (len(prefix), prefix, limit)).fetchall()
            return [exec_id for (exec_id,) in rows]

        return self._read("find_execution_ids", fast, prefix, limit=limit)

    def count_children(self, exec_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Calls and artifacts (``event`` artifacts left out) per existing execution."""

        def fast() -> dict[str, tuple[int, int]]:
            ids = list(dict.fromkeys(exec_ids))
            with self._snapshot() as connection:
                rows = self._counts(connection, ids)
            return {exec_id: (int(calls), int(artifacts)) for exec_id, calls, artifacts in rows}

        return self._read("count_children", fast, exec_ids)

    @staticmethod
    def _counts(connection: sqlite3.Connection, ids: list[str]) -> list[tuple[Any, ...]]:
        """``(exec_id, calls, artifacts)`` of the existing executions among ``ids``."""
        if len(ids) > _CHUNK:
            (total,) = connection.execute("SELECT count(*) FROM executions").fetchone()
            if 2 * len(ids) >= total:  # most of the journal: count every row, keep the asked
                wanted = set(ids)
                return [row for row in connection.execute(_COUNTS) if row[0] in wanted]
        try:  # one statement, whatever the number of ids (SQLite's JSON functions)
            return connection.execute(
                _COUNTS + "WHERE e.exec_id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
            ).fetchall()
        except sqlite3.OperationalError:  # a SQLite built without them
            rows: list[tuple[Any, ...]] = []
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows += connection.execute(f"{_COUNTS}WHERE e.exec_id IN ({marks})", chunk)
            return rows

    # -- calls, attempts, waits, artifacts -----------------------------------------------------

    def get_calls(self, exec_id: str) -> list[CallRecord]:
        """The execution's calls ordered by ``seq``."""

        def fast() -> list[CallRecord]:
            rows = self._rows_of(exec_id, "calls", _CALLS, "seq")
            return [codec.call_from_row(row) for row in rows]

        return self._read("get_calls", fast, exec_id)

    def get_attempts(self, exec_id: str) -> list[AttemptRecord]:
        """All attempts of the execution, oldest first (by ``started_at``, then insertion)."""

        def fast() -> list[AttemptRecord]:
            rows = self._rows_of(exec_id, "attempts", _ATTEMPTS, "started_at, id")
            return [codec.attempt_from_row(row) for row in rows]

        return self._read("get_attempts", fast, exec_id)

    def get_waits(self, exec_id: str) -> list[WaitRecord]:
        """The execution's waits, oldest first."""

        def fast() -> list[WaitRecord]:
            rows = self._rows_of(exec_id, "waits", _WAITS, "created_at, id")
            return [codec.wait_from_row(row) for row in rows]

        return self._read("get_waits", fast, exec_id)

    def list_artifacts(self, exec_id: str) -> list[ArtifactRecord]:
        """The execution's artifacts, oldest first."""

        def fast() -> list[ArtifactRecord]:
            rows = self._rows_of(exec_id, "artifacts", _ARTIFACTS, "created_at, id")
            return [codec.artifact_from_row(row) for row in rows]

        return self._read("list_artifacts", fast, exec_id)

    def get_artifact(self, artifact_id: str) -> ArtifactRecord:
        """Return the artifact, or raise :class:`NotFoundError`."""

        def fast() -> ArtifactRecord:
            sql = f"{_select('artifacts', _ARTIFACTS)} WHERE artifact_id = ?"
            with self._snapshot() as connection:
                rows = connection.execute(sql, (artifact_id,)).fetchall()
            if not rows:
                raise NotFoundError(f"Artifact '{artifact_id}' was not found.")
            return codec.artifact_from_row(_decode(rows, _ARTIFACTS)[0])

        return self._read("get_artifact", fast, artifact_id)


def _delegate(name: str) -> Callable[..., Any]:
    def method(self: SqliteReader, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.full_backend(), name)(*args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"SqliteReader.{name}"
    method.__doc__ = f"Delegated to ``SqlBackend.{name}``."
    return method


# Every other contract method (writes, logs, documents, secrets) is SqlBackend's.
for _name, _member in vars(Backend).items():
    if callable(_member) and not _name.startswith("_") and _name not in FAST_READS | {"close"}:
        setattr(SqliteReader, _name, _delegate(_name))
abc.update_abstractmethods(SqliteReader)
del _name, _member


# -- converting rows as SQLAlchemy does ----------------------------------------------------------


def _decode(
    rows: Sequence[tuple[Any, ...]], columns: Sequence[tuple[str, str | None]]
) -> list[dict[str, Any]]:
    """``rows`` as mappings holding what SQLAlchemy's result processing would give.

    Column by column: JSON text is decoded in one ``json.loads`` per column, ``DATETIME`` text
    parsed with ``datetime.fromisoformat`` and made UTC (``UTCDateTime``). Raises
    :class:`_NotFast` for a value that is not text (SQLite's NUMERIC affinity can store JSON
    such as ``42`` as an integer; SQLAlchemy's handling of those is left to SQLAlchemy).
    """
    if not rows:
        return []
    names = [name for name, _ in columns]
    values: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for index, (_, kind) in enumerate(columns):
        if kind == _JSON:
            values[index] = _json_column(values[index])
        elif kind == _TIME:
            values[index] = _time_column(values[index])
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _constructor(cls: type[T], keys: Sequence[str]) -> Callable[[dict[str, Any]], T]:
    """A fast ``cls(**values)`` for a frozen dataclass, for values with exactly ``keys``.

    When ``keys`` name every field (and ``cls`` has no ``__post_init__``) it skips
    ``__init__``: the record equals (``==``, ``repr``) the one ``__init__`` builds, for a
    tenth of the time (the 20 ``object.__setattr__`` calls of a frozen ExecutionRecord's
    ``__init__`` were most of the cost of decoding 10,000 executions). Otherwise it is
    ``cls(**values)``.
    """
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    if set(keys) != fields or hasattr(cls, "__post_init__"):
        return lambda values: cls(**values)
    new = object.__new__

    def construct(values: dict[str, Any]) -> T:
        record: T = new(cls)
        record.__dict__.update(values)
        return record

    return construct


def _execution_records(rows: Sequence[tuple[Any, ...]]) -> list[ExecutionRecord]:
    try:
        return _decode_executions(rows)
    except (TypeError, ValueError, KeyError):
        raise _NotFast from None  # a value the codec rejects: SqlBackend reports it its way


def _decode_executions(rows: Sequence[tuple[Any, ...]]) -> list[ExecutionRecord]:
    """``codec.execution_from_row`` of each of ``rows`` (``_EXECUTIONS`` columns), without a
    mapping per row: ``executions list`` decodes 10,000 of these. The records are checked
    against the codec's in ``tests/integration/test_sqlite_reader.py``.

    Sources and failures are immutable records that repeat (one source per flow): each
    distinct text is decoded once and its record shared. Mappings (spec, metadata) are
    decoded per row and never shared; the common ``{}`` skips the JSON decoder.
    """
    sources: dict[Any, Any] = {}
    failures: dict[Any, Any] = {None: None}
    states = {s.value: s for s in ExecutionState}
    construct = _constructor(ExecutionRecord, _EXECUTION_FIELDS)
    parse = datetime.fromisoformat
    out = []
    for (
        exec_id,
        flow_name,
        source,
        inputs_serializer,
        inputs_type_ref,
        inputs_inline,
        inputs_uri,
        inputs_size,
        inputs_sha256,
        spec,
        stack,
        state,
        status_reason,
        failure,
        result_artifact_id,
        original_exec_id,
        replay_plan,
        metadata,
        created_at,
        started_at,
        ended_at,
        epoch,
        lease_owner,
        lease_host,
        lease_pid,
        lease_heartbeat_at,
        lease_expires_at,
        cancel_requested,
        round_,
    ) in rows:
        source_ref = sources.get(source)
        if source_ref is None:
            source_ref = sources[source] = codec._source(_json_value(source))
        failure_record = failures.get(failure, _MISSING)
        if failure_record is _MISSING:
            failure_record = failures[failure] = codec._failure(_json_value(failure))
        inputs = None
        if inputs_serializer is not None:
            inputs = Payload(
                serializer=inputs_serializer,
                type_ref=inputs_type_ref,
                inline=None if inputs_inline is None else bytes(inputs_inline),
                uri=inputs_uri,
                size=inputs_size,
                sha256=inputs_sha256,
            )
        lease = None
        if lease_owner is not None:
            lease = LeaseRecord(
                owner=lease_owner,
                host=lease_host,
                pid=lease_pid,
                heartbeat_at=_utc(lease_heartbeat_at),
                expires_at=_utc(lease_expires_at),
            )
        values = {
            "exec_id": exec_id,
            "flow_name": flow_name,
            "source": source_ref,
            "inputs": inputs,
            "spec": {} if spec == "{}" else _mapping(spec),
            "stack": stack,
            "state": states.get(state) or ExecutionState(state),
            "status_reason": status_reason,
            "failure": failure_record,
            "result_artifact_id": result_artifact_id,
            "original_exec_id": original_exec_id,
            "replay_plan": None if replay_plan is None else _json_value(replay_plan),
            "metadata": {} if metadata == "{}" else _mapping(metadata),
            # The canonical naive-UTC text Kitaru writes, else the general reading.
            "created_at": parse(created_at + "+00:00")
            if created_at.__class__ is str and len(created_at) == 26
            else _utc(created_at),
            "started_at": parse(started_at + "+00:00")
            if started_at.__class__ is str and len(started_at) == 26
            else _utc(started_at),
            "ended_at": parse(ended_at + "+00:00")
            if ended_at.__class__ is str and len(ended_at) == 26
            else _utc(ended_at),
            "epoch": epoch,
            "lease": lease,
            "cancel_requested": bool(cancel_requested),
            "round": round_,
        }
        out.append(construct(values))
    return out


_MISSING = object()


def _json_value(text: Any) -> Any:
    """What SQLAlchemy's JSON type reads from ``text`` (None for NULL)."""
    if text is None:
        return None
    if text.__class__ is not str:
        raise _NotFast  # a number SQLite stored with NUMERIC affinity: SQLAlchemy's business
    try:
        return json.loads(text)
    except ValueError:
        raise _NotFast from None


def _mapping(text: Any) -> dict[str, Any]:
    """The codec's reading of a JSON mapping column (``{}`` for NULL)."""
    value = _json_value(text)
    return {} if value is None else dict(value)


def _utc(value: Any) -> datetime | None:
    """``UTCDateTime``'s reading of a ``DATETIME`` value (None for NULL)."""
    if value is None:
        return None
    if value.__class__ is not str:
        raise _NotFast
    try:
        if len(value) == 26:
            return datetime.fromisoformat(value + "+00:00")
        return _time(value)
    except ValueError:
        raise _NotFast from None


_EXECUTION_FIELDS = (
    "exec_id",
    "flow_name",
    "source",
    "inputs",
    "spec",
    "stack",
    "state",
    "status_reason",
    "failure",
    "result_artifact_id",
    "original_exec_id",
    "replay_plan",
    "metadata",
    "created_at",
    "started_at",
    "ended_at",
    "epoch",
    "lease",
    "cancel_requested",
    "round",
)


def _json_column(column: Sequence[Any]) -> list[Any]:
    try:
        text = ",".join(["null" if value is None else value for value in column])
    except TypeError:
        raise _NotFast from None
    try:
        decoded = json.loads(f"[{text}]")
    except ValueError:
        raise _NotFast from None
    if len(decoded) != len(column):  # text that is not one JSON value each
        raise _NotFast
    return decoded  # type: ignore[no-any-return]


def _time_column(column: Sequence[Any]) -> list[datetime | None]:
    parse = datetime.fromisoformat
    try:
        return [
            None
            if value is None
            else parse(value + "+00:00")  # the canonical naive-UTC text Kitaru writes
            if len(value) == 26 and value[10] == " "
            else _time(value)
            for value in column
        ]
    except (TypeError, ValueError):
        raise _NotFast from None


def _time(value: str) -> datetime:
    """``UTCDateTime``'s reading of any other text SQLite's ``DATETIME`` parser accepts."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
