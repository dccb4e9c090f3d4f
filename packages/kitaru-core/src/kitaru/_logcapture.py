"""Runtime log capture: stdout, stderr and ``logging`` output inside a flow or checkpoint is
journaled per execution and checkpoint, and still reaches the terminal.

The tee streams and the logging handler are installed once per process, on the first flow
run; they forward to the journal only when a :class:`LogSink` is active in the current context.
Buffered lines are journaled in the background about every half second while a flow runs
(:mod:`kitaru._live`), and at the end of each checkpoint and flow body. With a log store
configured (:mod:`kitaru.log_store`), every flushed batch is also handed to its exporter.
Values registered with :func:`add_redactions` (the credentials ``llm()`` uses) are replaced
by ``***`` in every captured line and in journaled failures.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TextIO

from kitaru import _live, _logstore
from kitaru._clock import utcnow
from kitaru.backend import LogRecord

if TYPE_CHECKING:
    from kitaru.backend import Backend

_sink: ContextVar[LogSink | None] = ContextVar("kitaru_log_sink", default=None)
_install_lock = threading.Lock()
_installed = False
_FLUSH_LINES = 200
#: An unfinished line (no newline yet) is journaled by the background flush after this long.
_PARTIAL_SECONDS = 2.0
_redactions: tuple[str, ...] = ()
_UNSET: Any = object()
_MIN_REDACTED = 4


def add_redactions(values: Any) -> None:
    """Never show these values (secrets) in captured logs or journaled failures from now on
    in this process. Values shorter than 4 characters are ignored."""
    global _redactions
    new = {v for v in values if isinstance(v, str) and len(v) >= _MIN_REDACTED}
    with _install_lock:
        if not new.issubset(_redactions):
            _redactions = tuple(sorted(new.union(_redactions), key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret value replaced by ``***``."""
    for value in _redactions:
        if value in text:
            text = text.replace(value, "***")
    return text


class LogSink:
    """Buffers log lines for one execution (and optionally one checkpoint call).

    Lines are journaled in order: in the background while the sink is active (see
    :mod:`kitaru._live`), at once when :data:`_FLUSH_LINES` are buffered, and by the final
    :meth:`flush` when the checkpoint or flow body ends.
    """

    def __init__(
        self,
        backend: Backend,
        exec_id: str,
        *,
        invocation_id: str | None,
        source: str,
        exporter: Any = _UNSET,
    ) -> None:
        self.backend = backend
        self.exec_id = exec_id
        self.invocation_id = invocation_id
        self.source = source
        self._lines: list[LogRecord] = []
        self._partial: dict[str, str] = {}
        self._partial_since: dict[str, float] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time: batches stay in order
        self._scheduled = False  # a background flush is due (see kitaru._live)
        # Resolved once per segment by the engine (reading the log-store setting per
        # checkpoint would put a config-file read on the hot path).
        self._exporter = _logstore.active_exporter() if exporter is _UNSET else exporter

    def add(self, message: str, *, level: str, stream: str | None = None, **extra: Any) -> None:
        record = LogRecord(
            exec_id=self.exec_id,
            message=redact(message) if _redactions else message,
            timestamp=utcnow(),
            level=level,
            source=self.source,
            invocation_id=self.invocation_id,
            stream=stream,
            **extra,
        )
        with self._lock:
            self._lines.append(record)
            due = len(self._lines) >= _FLUSH_LINES
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            _live.schedule_flush(self)
        if due:
            self.flush()

    def write_stream(self, stream: str, text: str) -> None:
        with self._lock:
            buffered = self._partial.get(stream, "") + text
            *complete, rest = buffered.split("\n")
            self._partial[stream] = rest
            if not rest:
                self._partial_since.pop(stream, None)
            elif stream not in self._partial_since:
                self._partial_since[stream] = time.monotonic()
            schedule = bool(rest) and not self._scheduled
            if schedule:
                self._scheduled = True
        if schedule:
            _live.schedule_flush(self)
        level = "ERROR" if stream == "stderr" else "INFO"
        for line in complete:
            if line.strip():
                self.add(line, level=level, stream=stream)

    def _take_partial(self, stream: str) -> None:
        """Move a stream's unfinished line into the buffer (caller holds ``_lock``)."""
        rest = self._partial.pop(stream, "")
        self._partial_since.pop(stream, None)
        if rest.strip():
            self._lines.append(
                LogRecord(
                    exec_id=self.exec_id,
                    message=redact(rest) if _redactions else rest,
                    timestamp=utcnow(),
                    level="ERROR" if stream == "stderr" else "INFO",
                    source=self.source,
                    invocation_id=self.invocation_id,
                    stream=stream,
                )
            )

    def flush(self) -> None:
        """Journal every buffered line, unfinished ones included (the checkpoint or flow body
        ended, or the buffer is full)."""
        with self._flush_lock:
            with self._lock:
                for stream in list(self._partial):
                    self._take_partial(stream)
                lines, self._lines = self._lines, []
            self._store(lines)

    def live_flush(self) -> bool:
        """The background flush: journal the complete lines (and an unfinished line that has
        waited :data:`_PARTIAL_SECONDS`); return whether lines are still buffered."""
        with self._flush_lock:
            with self._lock:
                now = time.monotonic()
                for stream, since in list(self._partial_since.items()):
                    if now - since >= _PARTIAL_SECONDS:
                        self._take_partial(stream)
                lines, self._lines = self._lines, []
            self._store(lines)
        with self._lock:
            pending = bool(self._lines) or bool(self._partial_since)
            self._scheduled = pending
            return pending

    def _store(self, lines: list[LogRecord]) -> None:
        if not lines:
            return
        try:
            self.backend.append_logs(lines)
        except Exception as exc:  # logs must never break a run
            if sys.__stderr__ is not None:
                sys.__stderr__.write(f"kitaru: could not store {len(lines)} log lines: {exc}\n")
        if self._exporter is not None:  # also to the log store (never blocks)
            self._exporter.submit(lines)


class _Tee:
    def __init__(self, name: str, original: TextIO) -> None:
        self._name = name
        self._original = original

    def write(self, text: str) -> int:
        sink = _sink.get()
        if sink is not None and not getattr(_guard, "active", False):
            _guard.active = True
            try:
                sink.write_stream(self._name, text)
            finally:
                _guard.active = False
        return self._original.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


_guard = threading.local()


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink = _sink.get()
        if sink is None or getattr(_guard, "active", False):
            return
        _guard.active = True
        try:
            sink.add(
                record.getMessage(),
                level=record.levelname,
                module=record.module,
                filename=record.filename,
                lineno=record.lineno,
            )
        except Exception:
            self.handleError(record)
        finally:
            _guard.active = False


def install() -> None:
    """Install the tees (again, if something replaced the streams) and the logging handler."""
    global _installed
    with _install_lock:
        if not isinstance(sys.stdout, _Tee):
            sys.stdout = _Tee("stdout", sys.stdout)
        if not isinstance(sys.stderr, _Tee):
            sys.stderr = _Tee("stderr", sys.stderr)
        if not _installed:
            logging.getLogger().addHandler(_Handler())
            _installed = True


def current_sink() -> LogSink | None:
    return _sink.get()


def set_sink(sink: LogSink | None) -> Any:
    return _sink.set(sink)


def reset_sink(token: Any) -> None:
    _sink.reset(token)
