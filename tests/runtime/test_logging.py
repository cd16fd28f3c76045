"""Logging: JSON lines, console lines, context fields, idempotent setup."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flowgen_runtime.core.logging import (
    _utc_ms,
    bind_log_context,
    configure_logging,
    get_logger,
    log_context,
    log_json_line,
    request_id,
    reset_log_context,
    scoped_log_context,
)


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Leave the root logger as pytest set it up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_have_the_standard_fields_and_extras() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    get_logger("app.users").info("created %s", "ada", extra={"user_id": 42, "tags": ["a"]})
    get_logger("app.users").debug("not shown")
    [entry] = lines(stream)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "app.users"
    assert entry["msg"] == "created ada"
    assert entry["user_id"] == 42 and entry["tags"] == ["a"]
    ts = str(entry["ts"])
    assert ts.endswith("Z")
    assert datetime.fromisoformat(ts.replace("Z", "+00:00")).utcoffset() == timedelta(0)
    assert list(entry)[:4] == ["ts", "level", "logger", "msg"]


def test_json_includes_the_traceback() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        raise ValueError("bad input")
    except ValueError:
        get_logger("app").exception("failed")
    [entry] = lines(stream)
    assert entry["msg"] == "failed" and entry["level"] == "ERROR"
    assert "Traceback" in str(entry["exc"]) and "ValueError: bad input" in str(entry["exc"])


def test_json_survives_values_it_cannot_encode() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    get_logger("app").info("odd", extra={"obj": object(), "huge": 2**80, "n": 5})
    [entry] = lines(stream)
    assert str(entry["obj"]).startswith("<object object")
    assert entry["huge"] == str(2**80) and entry["n"] == 5


def test_console_format_is_readable() -> None:
    stream = io.StringIO()
    configure_logging("debug", "console", stream=stream)
    with scoped_log_context(job_id="j1"):
        get_logger("app.jobs").warning("retrying", extra={"attempt": 2})
    line = stream.getvalue().strip()
    assert "WARNING" in line and "app.jobs" in line and "retrying" in line
    assert "attempt=2" in line and "job_id=j1" in line


def test_configure_is_idempotent_and_reconfigures() -> None:
    first, second = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("INFO", "json", stream=first)
    configure_logging("WARNING", "console", stream=second)
    assert len(root.handlers) == before + 1
    get_logger("app").warning("once")
    get_logger("app").info("filtered")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1 and "filtered" not in second.getvalue()


def test_noisy_libraries_are_quiet_even_at_debug() -> None:
    configure_logging("DEBUG", "json", stream=io.StringIO())
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("app").getEffectiveLevel() == logging.DEBUG


def test_bad_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown log format"):
        configure_logging("INFO", "xml")


def test_context_fields_appear_on_every_line() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    log = get_logger("app")
    rid = request_id.set("req-1")
    token = bind_log_context(job_id="job-9", queue="emails")
    try:
        log.info("one")
        logging.getLogger("some.library").info("two")
        log.info("three", extra={"job_id": "explicit"})
        assert log_context() == {"job_id": "job-9", "queue": "emails", "request_id": "req-1"}
    finally:
        reset_log_context(token)
        request_id.reset(rid)
    log.info("four")
    one, two, three, four = lines(stream)
    assert one["request_id"] == two["request_id"] == "req-1"
    assert one["job_id"] == two["job_id"] == "job-9" and two["queue"] == "emails"
    assert three["job_id"] == "explicit"  # extra= wins over the context
    assert "request_id" not in four and "job_id" not in four
    assert log_context() == {}


def test_binding_none_removes_a_field() -> None:
    with scoped_log_context(a=1, b=2):
        with scoped_log_context(b=None):
            assert log_context() == {"a": 1}
        assert log_context() == {"a": 1, "b": 2}
    assert log_context() == {}


async def test_context_is_per_task() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)

    async def handle(rid: str) -> None:
        request_id.set(rid)
        bind_log_context(user=rid.upper())
        await asyncio.sleep(0)
        get_logger("app").info("handled")

    await asyncio.gather(handle("r1"), handle("r2"))
    entries = sorted(lines(stream), key=lambda entry: str(entry["request_id"]))
    assert [(e["request_id"], e["user"]) for e in entries] == [("r1", "R1"), ("r2", "R2")]
    assert log_context() == {}  # nothing leaked into the calling task


@contextmanager
def only_flowgen_handler() -> Iterator[None]:
    """Take pytest's capturing handlers off the root logger for a while (as in a worker)."""
    root = logging.getLogger()
    saved = list(root.handlers)
    root.handlers = [h for h in saved if type(h).__name__ == "_FlowgenHandler"]
    try:
        yield
    finally:
        root.handlers = saved


def test_log_json_line_writes_what_logging_would() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    log = get_logger("app.jobs")
    calls: list[tuple[int, str, tuple[object, ...], dict[str, object]]] = [
        (logging.INFO, "job %s done in %.0f ms", ("q/n#1", 2.5), {"job_id": "1", "attempt": 1}),
        (logging.WARNING, "100% plain", (), {"request_id": None, "ts": "not mine"}),
        (logging.INFO, "odd", (), {"obj": {1, 2}, "huge": 2**80, "_private": 1}),
        (logging.ERROR, "context", (), {"queue": "explicit"}),
    ]
    rid = request_id.set("req-1")
    token = bind_log_context(job_id="ctx-job", queue="ctx-queue", name="ctx-name")
    try:
        with only_flowgen_handler():
            for level, msg, args, fields in calls:
                log.log(level, msg, *args, extra=fields)
                assert log_json_line(log, level, msg, args, fields)
            assert not log_json_line(log, logging.DEBUG, "below the level", (), {})
    finally:
        reset_log_context(token)
        request_id.reset(rid)
    entries = lines(stream)
    assert len(entries) == 2 * len(calls)
    for slow, fast in zip(entries[::2], entries[1::2], strict=True):
        assert abs(parse_ts(slow["ts"]) - parse_ts(fast["ts"])) < timedelta(seconds=1)
        del slow["ts"], fast["ts"]
        assert list(fast.items()) == list(slow.items())  # same keys, same order
    assert entries[0]["msg"] == "job q/n#1 done in 2 ms" and entries[0]["request_id"] == "req-1"
    assert entries[2]["request_id"] is None and entries[7]["queue"] == "explicit"


def test_log_json_line_leaves_other_setups_to_logging() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    log = get_logger("app.jobs")
    assert not log_json_line(log, logging.INFO, "pytest's handler is there too", (), {})
    with only_flowgen_handler():
        assert not log_json_line(log, logging.INFO, "%(a)s", ({"a": 1},), {})  # mapping args
        assert not log_json_line(log, logging.INFO, "reserved", (), {"lineno": 1})
        assert not log_json_line(log, logging.INFO, "%d", ("x",), {})  # logging reports it
        log.addFilter(lambda record: True)
        try:
            assert not log_json_line(log, logging.INFO, "a filter", (), {})
        finally:
            log.filters.clear()
        configure_logging("INFO", "console", stream=stream)
        assert not log_json_line(log, logging.INFO, "console format", (), {})
    assert stream.getvalue() == ""


@pytest.mark.parametrize("created", [0.0, 1.0005, 1700000000.9999996, 1700000000.1234, 1e9 + 0.5])
def test_json_timestamps_are_those_of_datetime(created: float) -> None:
    expected = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")
    assert _utc_ms(created) == expected.replace("+00:00", "Z")


def parse_ts(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
