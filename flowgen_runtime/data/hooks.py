"""Write hooks: user code that runs inside every write of an entity.

Six hooks per entity, each ``async def hook(event: WriteEvent) -> None`` (a plain ``def``
works too)::

    before_create  after_create  before_update  after_update  before_delete  after_delete

They run on every write path that changes rows of the entity: a create, update or delete
mutation, the bulk ones (``createMany``, ``updateMany``, ``deleteMany``: once per row), an
upsert (the create or the update hooks, whichever it does), a nested create of the entity
under another one (create hooks) and a nested connect/disconnect of its rows (update
hooks), and queued mutations (the worker runs the same service call). Each runs inside
the write's transaction, as the caller (``event.ctx``):

* a ``before_*`` hook may refuse the write (:meth:`WriteEvent.refuse`,
  :meth:`WriteEvent.forbid`: ``BAD_USER_INPUT`` / ``FORBIDDEN`` with the input's path, and
  nothing is written) and may change ``event.data`` (the validated input, by Python field
  name; what a hook sets is not validated again: hooks are trusted code);
* an ``after_*`` hook sees the written row (``event.row``), may read or write more
  through ``event.session`` (the same transaction), and may refuse too (the whole write is
  rolled back);
* jobs a hook enqueues (:meth:`WriteEvent.enqueue`, or :func:`flowgen_runtime.enqueue_job`)
  are added to Redis only after the transaction commits, and dropped if it rolls back.

Hooks are found in two places: functions with those names in the module of the entity in
the app's extensions package (``extensions/exam.py`` for ``Exam``, by convention), and
dotted paths in the entity's spec (``hooks: {before_create: my.module.check}``); both run,
the conventional one first.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowgen_runtime.auth.access import EVERYONE
from flowgen_runtime.core.errors import ForbiddenError, UserInputError
from flowgen_runtime.core.naming import camel

log = logging.getLogger("flowgen.hooks")


HOOK_NAMES = (
    "before_create",
    "after_create",
    "before_update",
    "after_update",
    "before_delete",
    "after_delete",
)

Hook = Callable[["WriteEvent"], Any]


@dataclass
class WriteEvent:
    """What a hook receives: who writes what, in which transaction.

    ``op`` is ``create``, ``update`` or ``delete``; ``id`` the row's primary key (``None``
    before a create); ``data`` the input values (``before_*`` of create/update; change
    them in place); ``row`` the row as written (``after_*``; for ``after_delete``, as it
    was); ``path`` where the input sits in the request (for error paths); ``via`` how the
    write came (``mutation``, ``bulk``, ``upsert``, ``nested``, or ``queued`` for a job).
    """

    ctx: Any
    session: Any
    entity: str
    op: str
    id: Any = None
    data: dict[str, Any] | None = None
    row: Any = None
    path: list[str | int] = field(default_factory=list)
    via: str = "mutation"

    @property
    def identity(self) -> Any:
        """The caller (``None`` when anonymous or the system)."""
        return self.ctx.identity

    def refuse(self, message: str, field: str | None = None) -> None:
        """Refuse the write as bad input (``BAD_USER_INPUT``), naming ``field`` if given."""
        where = [*self.path, camel(field)] if field else list(self.path)
        raise UserInputError([{"path": where, "message": message}])

    def forbid(self, message: str) -> None:
        """Refuse the write as not allowed (``FORBIDDEN``)."""
        raise ForbiddenError(message)

    async def enqueue(
        self,
        queue: str,
        job: str,
        payload: Mapping[str, Any],
        *,
        job_id: str | None = None,
        as_system: str | None = None,
    ) -> Any:
        """Enqueue ``job`` on ``queue`` (names from the specs) once the write commits.

        The job's ``permissions`` (who may enqueue it from the API) do not apply: the app's
        own code decides. The job runs as the caller, or as the system when ``as_system``
        gives the reason (logged; e.g. grading reads answer keys the student may not)."""
        from flowgen_runtime.jobs.api import enqueue_job

        ctx = self.ctx if as_system is None else self.ctx.as_system(as_system)
        queue_def = self.ctx.registry.queues[queue]
        return await enqueue_job(
            ctx,
            queue_def,
            job,
            dict(payload),
            job_id=job_id,
            grants=EVERYONE,  # the hook is the app's code, not a client
        )


@dataclass
class EntityHooks:
    """The hooks of one entity, by name, in the order they run."""

    found: dict[str, list[Hook]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.found.values())

    def has(self, name: str) -> bool:
        return bool(self.found.get(name))

    def add(self, name: str, hook: Hook) -> None:
        if name not in HOOK_NAMES:
            raise ValueError(f"unknown hook {name!r}; hooks are {', '.join(HOOK_NAMES)}")
        found = self.found.setdefault(name, [])
        if hook not in found:
            found.append(hook)

    async def run(self, name: str, event: WriteEvent) -> None:
        for hook in self.found.get(name, ()):
            result = hook(event)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, Mapping) and name.startswith("before_"):
                event.data = dict(result)  # a hook may also return the data to write


NO_HOOKS = EntityHooks()


@dataclass
class Hooked:
    """The hooks of one entity for the writes of one transaction: what every write path
    (services, nested writes) calls around its statement."""

    hooks: EntityHooks
    ctx: Any
    session: Any
    entity: str
    pk: str
    via: str

    def has(self, op: str) -> bool:
        """Whether ``op`` (``create``/``update``/``delete``) has any hook, before or after."""
        return self.hooks.has(f"before_{op}") or self.hooks.has(f"after_{op}")

    async def before(
        self, op: str, data: dict[str, Any] | None, *, id: Any = None,
        path: list[str | int] | None = None,
    ) -> dict[str, Any] | None:  # fmt: skip
        """``data`` after the ``before_<op>`` hooks (itself when there are none)."""
        name = f"before_{op}"
        if not self.hooks.has(name):
            return data
        event = WriteEvent(self.ctx, self.session, self.entity, op, id=id, data=data,
                           path=list(path or []), via=self.via)  # fmt: skip
        await self.hooks.run(name, event)
        return event.data if data is None else (event.data or {})

    async def after(self, op: str, row: Any, *, path: list[str | int] | None = None) -> None:
        """Run the ``after_<op>`` hooks on the row as written (as it was, for a delete)."""
        name = f"after_{op}"
        if self.hooks.has(name):
            event = WriteEvent(self.ctx, self.session, self.entity, op, id=row[self.pk],
                               row=row, path=list(path or []), via=self.via)  # fmt: skip
            await self.hooks.run(name, event)


def describe(hooks: Mapping[str, EntityHooks]) -> str:
    """``Exam: before_create, after_create; User: ...`` for the start-up log line."""
    parts = [
        f"{entity}: {', '.join(n for n in HOOK_NAMES if h.has(n))}"
        for entity, h in sorted(hooks.items())
        if h
    ]
    return "; ".join(parts) or "none"
