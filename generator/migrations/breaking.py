"""What a build changes for API clients and for jobs already waiting in a queue.

The GraphQL side uses graphql-core's ``find_breaking_changes`` / ``find_dangerous_changes``
on the previous SDL (the out folder's ``schema/*.graphql`` before the build) and the new
one. The jobs side compares payload shapes kept in the schema snapshot's ``jobs`` section:
a job removed, a payload field removed or retyped, or a new required field breaks payloads
that were queued by the previous version.

>>> old = {"mail": {"deliver": {"to": {"type": "string", "required": True}}}}
>>> new = {"mail": {"deliver": {"to": {"type": "string", "required": True},
...                             "cc": {"type": "string", "required": True}}}}
>>> job_changes(old, new)
['job mail.deliver: new required payload field cc (queued payloads lack it)']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import App


@dataclass
class ApiReport:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)


def jobs_snapshot(app: App) -> dict[str, Any]:
    """``{queue: {job: {payload field: {type, required}}}}`` of every job."""
    return {
        q.name: {
            j.name: {
                f.name: {"type": f.value_type, "required": f.required, "nullable": f.nullable}
                for f in j.payload
            }
            for j in q.jobs
        }
        for q in app.queues
    }


def _sdl(files: dict[str, str]) -> str:
    return "\n".join(text for path, text in sorted(files.items()) if path.startswith("schema/"))


def read_sdl(out: Path) -> dict[str, str]:
    """The previous build's SDL files in ``out`` (empty on a first build)."""
    return {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted((out / "schema").glob("*.graphql"))
    }


def api_report(
    old_sdl: dict[str, str],
    new_files: dict[str, str],
    old_jobs: dict[str, Any] | None,
    new_jobs: dict[str, Any],
) -> ApiReport:
    report = ApiReport()
    before_sdl, after_sdl = _sdl(old_sdl), _sdl(new_files)
    if old_sdl and before_sdl != after_sdl:  # same text: nothing to compare (seconds saved)
        from graphql import (
            GraphQLError,
            build_schema,
            find_breaking_changes,
            find_dangerous_changes,
        )

        try:
            before, after = build_schema(before_sdl), build_schema(after_sdl)
        except GraphQLError as exc:  # a previous build by an older generator, edited SDL
            report.dangerous.append(f"cannot compare with the previous SDL: {exc.message}")
        else:
            report.breaking += [c.description for c in find_breaking_changes(before, after)]
            report.dangerous += [c.description for c in find_dangerous_changes(before, after)]
    if old_jobs is not None:
        report.breaking += job_changes(old_jobs, new_jobs)
    return report


def job_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Changes that make payloads queued by the previous build fail in the new worker."""
    out: list[str] = []
    for queue, jobs in sorted(old.items()):
        for job, payload in sorted(jobs.items()):
            after = new.get(queue, {}).get(job)
            name = f"job {queue}.{job}"
            if after is None:
                out.append(f"{name}: removed (queued jobs have no handler any more)")
                continue
            out += _payload_changes(name, payload, after)
    return out


def _payload_changes(name: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    for key, spec in sorted(before.items()):
        if key not in after:
            out.append(f"{name}: payload field {key} removed (queued payloads still carry it)")
        elif after[key]["type"] != spec["type"]:
            out.append(f"{name}: payload field {key} changed type {spec['type']} -> "
                       f"{after[key]['type']}")  # fmt: skip
        elif after[key]["nullable"] is False and spec["nullable"]:
            out.append(f"{name}: payload field {key} is no longer nullable")
    for key, spec in sorted(after.items()):
        if key not in before and spec["required"]:
            out.append(f"{name}: new required payload field {key} (queued payloads lack it)")
    return out
