"""Per-request (or per-job) context handed to every resolver and service call."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Protocol

from aiodataloader import DataLoader
from flowgen_runtime.auth.access import FULL, Access, resolve
from flowgen_runtime.core.errors import ForbiddenError, UnauthenticatedError

DENY: dict[str, Any] = {"or": []}
"""A where that matches no row."""


class Resources(Protocol):
    """What a context needs of its process (:class:`~.state.AppState` is one)."""

    db: Any
    cache: Any
    jobs: Any
    registry: Any
    settings: Any


def caller_scope(identity: Any, system: bool = False) -> str:
    """Who the caller is, for whole-response cache keys (see :attr:`Context.scope`)."""
    if system:
        return "system"
    if identity is None:
        return "anon"
    scope = getattr(identity, "scope", None)  # not a default: repr() of claims costs
    return f"user:{identity}" if scope is None else str(scope)


class Context:
    """What a resolver sees as ``info.context``.

    ``identity`` is the signed-in caller (``None``: anonymous); ``system`` contexts (workers
    running queued mutations, migrations) bypass permissions. ``scope`` identifies the
    caller for whole-response cache keys; entity reads key on :meth:`access` scopes, so
    callers with the same visibility share results and others never do.
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
        self.scope = caller_scope(identity, system)
        self._loaders: dict[Hashable, DataLoader] = {}
        self._access: dict[tuple[str, str], Access | Exception] = {}

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
