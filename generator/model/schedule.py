"""Cron expressions, checked as the worker will read them.

The worker's BullMQ (python) computes the next run with ``croniter(pattern, base,
second_at_beginning=True)`` (bullmq/job_scheduler.py); a pattern it cannot read kills the
worker at start-up, so the build asks croniter the same question first.

>>> cron_problem("0 3 * * *") is None, cron_problem("61 * * * *") is not None
(True, True)
"""

from __future__ import annotations

import datetime as dt


def cron_problem(pattern: str) -> str | None:
    """Why the worker could not schedule ``pattern``; None when it can."""
    from croniter import croniter  # bullmq's own dependency

    if not pattern.strip():
        return "it is empty"
    try:
        croniter(
            pattern, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), second_at_beginning=True
        ).get_next(dt.datetime)
    except Exception as exc:  # croniter raises several types (CroniterBadCronError, ValueError...)
        return str(exc) or type(exc).__name__
    return None
