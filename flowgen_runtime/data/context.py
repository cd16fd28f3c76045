"""Per-request (or per-job) context handed to every resolver and service call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Hashable, Mapping
from typing import Any, Protocol

from aiodataloader import DataLoader
from flowgen_runtime.auth.access import FULL, Access, Identity, resolve, rule_claims
from flowgen_runtime.core.errors import ForbiddenError, UnauthenticatedError

log = logging.getLogger("flowgen.access")

DENY: dict[str, Any] = {"or": []}
"""A where that matches no row."""


class Resources(Protocol):
    """What a context needs of its process (:class:`~.state.AppState` is one)."""

    db: Any
    cache: Any
    jobs: Any
    registry: Any
    settings: Any


def caller_scope(identity: Any, system: bool = False, claims: frozenset[str] = frozenset()) -> str:
    """Who the caller is, for whole-response cache keys (see :attr:`Context.scope`):
    user id, roles and the value of every claim a row rule reads (``claims``)."""
    if system:
        return "system"
    if identity is None:
        return "anon"
    if isinstance(identity, Identity):
        return identity.scope_with(claims) if claims else identity.scope
    scope = getattr(identity, "scope", None)  # not a default: repr() of claims costs
    return f"user:{identity}" if scope is None else str(scope)


_CLAIMS: dict[int, tuple[Any, frozenset[str]]] = {}


def claims_read(registry: Any) -> frozenset[str]:
    """The claim paths the row rules and presets of ``registry``'s entities read
    (computed once per registry)."""
    known = _CLAIMS.get(id(registry))
    if known is not None and known[0] is registry:
        return known[1]
    services = getattr(registry, "services", None) or {}
    perms = [getattr(getattr(s, "meta", None), "permissions", None) for s in services.values()]
    paths = rule_claims(perms)
    _CLAIMS[id(registry)] = (registry, paths)  # holds the registry: its id is not reused
    return paths


def job_caller(record: Any) -> tuple[Identity | None, bool]:
    """``(identity, system)`` of a job from the caller its metadata recorded at enqueue
    (``JobContext.caller``): no record (a scheduled job, a job added without one) is an
    anonymous caller; ``{"system": true}`` a job a system context enqueued."""
    if record is None:
        return None, False
    if not isinstance(record, Mapping):
        raise ForbiddenError("the job's caller record is malformed")
    try:
        if record.get("system"):
            return (Identity.from_record(record) if "roles" in record else None), True
        return Identity.from_record(record), False
    except ValueError as exc:
        raise ForbiddenError(str(exc)) from None


class Context:
    """What a resolver sees as ``info.context``.

    ``identity`` is the signed-in caller (``None``: anonymous); ``system`` contexts bypass
    permissions and are only made on purpose: :meth:`as_system` (logged), migrations.
    A job's context acts as the caller who enqueued it (see ``app_context``). ``scope``
    identifies the caller for whole-response cache keys; entity reads key on
    :meth:`access` scopes, so callers with the same visibility share results and others
    never do.
    """

    def __init__(
        self,
        state: Resources,
        *,
        request: Any = None,
        request_id: str | None = None,
        identity: Any = None,
        system: bool = False,
        request_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.state = state
        self._request = request
        self._request_factory = request_factory
        """Builds ``request`` when first asked for (most requests never ask)."""
        self.request_id = request_id
        self.identity = identity
        self.system = system
        registry = getattr(state, "registry", None)
        self.scope = caller_scope(
            identity, system, claims_read(registry) if registry is not None else frozenset()
        )
        self._loaders: dict[Hashable, DataLoader] = {}
        self._access: dict[tuple[str, str], Access | Exception] = {}

    def as_system(self, reason: str = "") -> Context:
        """A context for the same request or job that bypasses every permission: for what
        the app itself does after checking the caller (a handler grading a submission
        the caller may read). Each call is logged with the caller and ``reason``.

        >>> sub = await submissions.get(app, id)          # as the caller: may it?
        >>> await submissions.update(app.as_system("grading"), id, {"score": 9})
        """
        who = getattr(self.identity, "id", None)
        log.info("acting as the system for user %s: %s", who, reason or "(no reason given)",
                 extra={"caller": who, "reason": reason})  # fmt: skip
        return type(self)(
            self.state, request=self._request, request_id=self.request_id,
            identity=self.identity, system=True, request_factory=self._request_factory,
        )  # fmt: skip

    @property
    def request(self) -> Any:
        """The HTTP request (a Starlette ``Request``), if the context serves one."""
        if self._request is None and self._request_factory is not None:
            self._request, self._request_factory = self._request_factory(), None
        return self._request

    def access(self, meta: Any, op: str) -> Access:
        """The caller's :class:`~.auth.Access` to ``op`` on an entity (raises if none)."""
        if self.system:
            return FULL
        key = (meta.name, op)
        found = self._access.get(key)
        if found is None:
            try:
                found = resolve(meta.permissions, op, self.identity, meta.name)
            except (UnauthenticatedError, ForbiddenError) as exc:
                found = exc
            self._access[key] = found
        if isinstance(found, Exception):
            raise found
        return found

    def _read(self, meta: Any) -> Access | None:
        """The caller's read access to ``meta``, or None when it has none."""
        try:
            return self.access(meta, "read")
        except (UnauthenticatedError, ForbiddenError):
            return None

    def rows(self, meta: Any) -> Any:
        """Rows of ``meta`` the caller may read: a where, ``None`` for all, DENY for none."""
        read = self._read(meta)
        return DENY if read is None else read.rows

    def hidden(self, meta: Any) -> frozenset[str]:
        read = self._read(meta)
        return frozenset() if read is None else read.hidden

    def seen(self, meta: Any) -> list[Any]:
        """What the caller sees of ``meta`` (its rows, its hidden fields), for cache keys."""
        return [self.rows(meta), sorted(self.hidden(meta))]

    @property
    def db(self) -> Any:
        return self.state.db

    @property
    def cache(self) -> Any:
        return self.state.cache

    @property
    def jobs(self) -> Any:
        return self.state.jobs

    @property
    def registry(self) -> Any:
        return self.state.registry

    @property
    def settings(self) -> Any:
        return self.state.settings

    def loader(
        self, key: Hashable, batch: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]
    ) -> DataLoader:
        """The request's DataLoader for ``key``, created on first use."""
        found = self._loaders.get(key)
        if found is None:
            found = self._loaders[key] = DataLoader(batch, cache=True)
        return found
