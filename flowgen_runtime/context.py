"""Per-request (or per-job) context handed to every resolver and service call."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Hashable
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from .state import AppState


class Context:
    """What a resolver sees as ``info.context``.

    ``scope`` identifies what the caller may see; cache keys include it so callers with
    different visibility never share a cached result (anonymous callers share ``anon``).
    """

    def __init__(
        self,
        state: AppState,
        *,
        request: Any = None,
        request_id: str | None = None,
        identity: Any = None,
    ) -> None:
        self.state = state
        self.request = request
        self.request_id = request_id
        self.identity = identity
        self.scope = "anon" if identity is None else f"user:{identity}"
        self._loaders: dict[Hashable, DataLoader] = {}

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
