"""Definitions, handler resolution and connection arguments: no Redis needed."""

from __future__ import annotations

import pytest
from flowgen_runtime.jobs import (
    Backoff,
    HandlerImportError,
    JobDef,
    JobOptions,
    QueueDef,
    RateLimit,
    Retention,
    Schedule,
    resolve_handler,
)
from flowgen_runtime.jobs.enqueue import _parse_redis_url
from flowgen_runtime.jobs.status import iso_time
from pydantic import BaseModel

from . import sample_handlers


class P(BaseModel):
    x: int


def test_job_options_to_bullmq() -> None:
    assert JobOptions().to_bullmq() == {"attempts": 1}
    opts = JobOptions(
        attempts=5,
        backoff=Backoff("exponential", 1000),
        delay_ms=250,
        priority=3,
        timeout_ms=9000,
        remove_on_complete=Retention(count=100, age_s=3600),
        remove_on_fail=Retention(count=0),
    )
    assert opts.to_bullmq() == {
        "attempts": 5,
        "backoff": {"type": "exponential", "delay": 1000},
        "delay": 250,
        "priority": 3,
        "removeOnComplete": {"count": 100, "age": 3600},
        "removeOnFail": True,
    }
    assert Retention().to_bullmq() is False
    assert Retention(age_s=60).to_bullmq() == {"age": 60}


def test_backoff_delays() -> None:
    custom = Backoff("custom", delays_ms=(1000, 5000, 30000))
    assert custom.to_bullmq() == {"type": "custom"}
    assert [custom.delay_for(n) for n in (1, 2, 3, 4, 9)] == [1000, 5000, 30000, 30000, 30000]
    assert [Backoff("exponential", 100).delay_for(n) for n in (1, 2, 3)] == [100, 200, 400]
    assert Backoff("fixed", 70).delay_for(5) == 70
    queue = QueueDef(
        name="q",
        jobs={"a": JobDef("a", P, "m.f", JobOptions(attempts=3, backoff=custom))},
    )
    assert queue.retry_delay("a", 2) == 5000 and queue.retry_delay("unknown", 2) == 0


def test_schedule_and_rate_limit_to_bullmq() -> None:
    assert Schedule(cron="*/5 * * * *").to_bullmq() == {"pattern": "*/5 * * * *"}
    assert Schedule(every_ms=1000).to_bullmq() == {"every": 1000}
    assert RateLimit(max=10, duration_ms=1000).to_bullmq() == {"max": 10, "duration": 1000}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: JobOptions(attempts=0), "attempts must be >= 1"),
        (lambda: JobOptions(priority=-1), "priority must be in"),
        (lambda: JobOptions(timeout_ms=0), "timeout_ms must be > 0"),
        (lambda: Backoff("linear", 10), "backoff type"),  # type: ignore[arg-type]
        (lambda: Backoff("custom"), "delays_ms is required"),
        (lambda: Backoff("fixed", 10, delays_ms=(1,)), "allowed only there"),
        (lambda: Schedule(), "exactly one of cron, every_ms"),
        (lambda: Schedule(cron="* * * * *", every_ms=5), "exactly one"),
        (lambda: RateLimit(max=0, duration_ms=1), "rate limit"),
        (lambda: JobDef(name="j", payload=dict, handler="a.b"), "pydantic model"),  # type: ignore[arg-type]
        (lambda: QueueDef(name="a:b", jobs={}), "bad queue name"),
        (lambda: QueueDef(name="q", jobs={"x": JobDef("y", P, "a.b")}), "keyed as 'x'"),
    ],
)
def test_bad_definitions_fail_at_construction(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_queue_job_lookup_names_known_jobs() -> None:
    queue = QueueDef(name="q", jobs={"a": JobDef("a", P, "m.f")})
    assert queue.job("a").name == "a"
    with pytest.raises(KeyError, match="queue 'q' has no job 'b' \\(jobs: a\\)"):
        queue.job("b")


def test_resolve_handler_imports_a_dotted_path() -> None:
    assert resolve_handler(f"{sample_handlers.HERE}.greet") is sample_handlers.greet


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("greet", "not a dotted path"),
        ("no_such_pkg_xyz.mod.func", "module 'no_such_pkg_xyz' not found"),
        (f"{sample_handlers.HERE}.missing", "has no 'missing'"),
        (f"{sample_handlers.HERE}.HERE", "is not callable"),
    ],
)
def test_resolve_handler_errors_name_the_path(path: str, message: str) -> None:
    with pytest.raises(HandlerImportError, match=message) as info:
        resolve_handler(path, where="queue 'q', job 'j'")
    assert repr(path) in str(info.value) and "queue 'q', job 'j'" in str(info.value)


def test_fallback_url_parsing() -> None:
    assert _parse_redis_url("redis://127.0.0.1:6380/2") == {
        "host": "127.0.0.1",
        "port": 6380,
        "db": 2,
    }
    assert _parse_redis_url("rediss://u:p%40ss@h/0") == {
        "host": "h",
        "port": 6379,
        "db": 0,
        "ssl": True,
        "username": "u",
        "password": "p@ss",
    }
    assert _parse_redis_url("unix:///tmp/r.sock?db=3") == {
        "unix_socket_path": "/tmp/r.sock",
        "db": 3,
    }


def test_iso_time() -> None:
    assert iso_time(1735787045678) == "2025-01-02T03:04:05.678+00:00"
    assert iso_time(0) is None and iso_time(None) is None
