"""Logging for generated backends: JSON lines or readable console output.

Plain standard-library logging, set up once per process::

    configure_logging(settings.log_level, settings.log_format)
    log = get_logger(__name__)
    log.info("user created", extra={"user_id": user.id})

In JSON format each record is one line::

    {"ts":"2025-01-31T12:00:00.123Z","level":"INFO","logger":"app.users","msg":"user created",
     "request_id":"4f1c…","user_id":42}

Fields bound with :func:`bind_log_context` (or :func:`scoped_log_context`) are
added to every record logged in the same context — the current asyncio task
and the tasks it starts — so a request id or job id set once appears on every
line, including those of libraries::

    request_id.set(incoming_id)
    bind_log_context(job_id=job.id, queue=job.queue_name)

Records go to stderr. Run uvicorn with ``log_config=None`` so its loggers use
this setup too.

A line logged many times a second (a worker's line per job) can skip the LogRecord:
:func:`log_json_line` writes the very line the handler would, when that handler is the only
place the record would go; otherwise it returns False and the caller logs as usual.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import MappingProxyType
from typing import Any, TextIO

import orjson

__all__ = [
    "bind_log_context",
    "configure_logging",
    "get_logger",
    "log_context",
    "log_json_line",
    "request_id",
    "reset_log_context",
    "scoped_log_context",
]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flowgen_request_id", default=None
)
"""Id of the request being served; added to every record as ``request_id`` when set."""

_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
_fields: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "flowgen_log_fields", default=_NO_FIELDS
)

# Libraries that log every step at DEBUG/INFO; they only speak up from WARNING on.
_NOISY_LOGGERS = ("aiosqlite", "asyncio", "httpcore", "httpx", "multipart", "watchfiles")
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def get_logger(name: str) -> logging.Logger:
    """The standard logger called ``name`` (use ``__name__``)."""
    return logging.getLogger(name)


def log_context() -> dict[str, Any]:
    """The fields currently added to every record, ``request_id`` included when set."""
    fields = dict(_fields.get())
    rid = request_id.get()
    if rid is not None:
        fields["request_id"] = rid
    return fields


def bind_log_context(**fields: Any) -> contextvars.Token[Mapping[str, Any]]:
    """Add ``fields`` to every record logged from now on in this context.

    Returns a token for :func:`reset_log_context`. A field set to None is removed.
    """
    merged = {**_fields.get(), **fields}
    return _fields.set({key: value for key, value in merged.items() if value is not None})


def reset_log_context(token: contextvars.Token[Mapping[str, Any]]) -> None:
    """Restore the fields as they were before the :func:`bind_log_context` call."""
    _fields.reset(token)


@contextmanager
def scoped_log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the ``with`` block."""
    token = bind_log_context(**fields)
    try:
        yield
    finally:
        reset_log_context(token)


class ContextFilter(logging.Filter):
    """Copies the bound context fields onto each record (``extra=`` values win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _utc_ms(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _json(entry)


def _json(entry: dict[str, Any]) -> str:
    try:
        return orjson.dumps(entry, default=repr).decode()
    except TypeError:  # e.g. an int beyond 64 bits or a non-string dict key
        return orjson.dumps({key: _plain(value) for key, value in entry.items()}).decode()


_second: tuple[int, str] = (-1, "")
"""The last whole second :func:`_utc_ms` formatted, and its text up to the seconds."""


def _utc_ms(created: float) -> str:
    """``2025-01-31T12:00:00.123Z`` for a ``time.time()`` value, as ``datetime`` rounds it.

    ``datetime.fromtimestamp(...).isoformat()`` took a fifth of a line's formatting; the
    date and time change once a second, so only the milliseconds are formatted per line.
    """
    global _second
    seconds = int(created)
    micros = round((created - seconds) * 1e6)  # datetime rounds to µs, then cuts to ms
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    if _second[0] != seconds:
        _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{_second[1]}.{micros // 1000:03d}Z"


def _plain(value: Any) -> Any:
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return str(value)
    if value is None or isinstance(value, str | int | float):
        return value
    return repr(value)


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 INFO  app.users  user created  user_id=42 request_id=4f1c…``"""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{when}.{int(record.msecs):03d} {record.levelname:<7} {record.name}  {record.getMessage()}"
        extras = _extras(record)
        if extras:
            line += "  " + " ".join(f"{key}={value}" for key, value in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class _FlowgenHandler(logging.StreamHandler[TextIO]):
    """The handler configure_logging installs; recognised so it is installed once."""


def log_json_line(
    logger: logging.Logger,
    level: int,
    msg: object,
    args: tuple[Any, ...],
    fields: Mapping[str, Any],
) -> bool:
    """Write ``logger.log(level, msg, *args, extra=fields)``'s JSON line without a LogRecord.

    Only when that record would reach nothing but the JSON handler :func:`configure_logging`
    installs (no filter of the logger's, no other handler, the standard record factory);
    then the line is the same, key for key (``ts``, ``level``, ``logger``, ``msg``, the
    fields, then the bound context), and True is returned. Otherwise, or for a call the
    handler would treat specially (``args`` of one mapping, a field a LogRecord reserves),
    nothing is written and False is returned: log it the usual way. It costs about half
    of a line through ``logging`` (``docs/benchmarks.md``).
    """
    handler = _sole_json_handler(logger, level)
    if handler is None or (len(args) == 1 and isinstance(args[0], Mapping) and args[0]):
        return False
    try:
        text = str(msg) % args if args else str(msg)
    except Exception:  # let logging report the bad format string, as it does
        return False
    entry: dict[str, Any] = {
        "ts": _utc_ms(time.time()),
        "level": logging.getLevelName(level),
        "logger": logger.name,
        "msg": text,
    }
    for key, value in fields.items():
        if key in _RECORD_ATTRIBUTES:  # makeRecord refuses these; let it say so
            return False
        if not key.startswith("_"):
            entry.setdefault(key, value)
    for key, value in log_context().items():  # as ContextFilter: fields and record attrs win
        if key not in fields and key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
            entry.setdefault(key, value)
    line = _json(entry) + handler.terminator
    stream = handler.stream
    handler.acquire()
    try:
        stream.write(line)
        stream.flush()  # as StreamHandler.flush, inside the lock already held
    except RecursionError:
        raise
    except Exception:
        handler.handleError(logger.makeRecord(logger.name, level, "", 0, msg, args, None))
    finally:
        handler.release()
    return True


def _sole_json_handler(logger: logging.Logger, level: int) -> _FlowgenHandler | None:
    """The JSON handler a record of ``logger`` at ``level`` would reach, if only that one."""
    if not logger.isEnabledFor(level) or logger.filters:
        return None
    if logging.getLogRecordFactory() is not logging.LogRecord:
        return None
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    if (
        type(found) is not _FlowgenHandler
        or level < found.level
        or type(found.formatter) is not JsonFormatter
        or len(found.filters) != 1
        or type(found.filters[0]) is not ContextFilter
    ):
        return None
    return found


def configure_logging(
    level: str = "INFO", fmt: str = "json", *, stream: TextIO | None = None
) -> None:
    """Send all logging to ``stream`` (stderr) in ``fmt`` ("json" or "console") from ``level``.

    Idempotent: a second call replaces the handler of the first instead of adding one.
    """
    if fmt not in ("json", "console"):
        raise ValueError(f"unknown log format {fmt!r}; use 'json' or 'console'")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _FlowgenHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _FlowgenHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())

    quiet = max(logging.WARNING, root.level)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn installs its own handlers unless given log_config=None; route through ours.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.captureWarnings(True)
