"""Flowgen runtime: the small library that Flowgen-generated backends import.

This module is the public API for user code (job handlers, custom resolvers, scripts);
everything else in the package is private by convention and may change between
versions. Names are imported on first use, so ``import flowgen_runtime`` stays cheap::

    from flowgen_runtime import JobContext, UserInputError, app_context, transaction

    async def grade_submission(payload, ctx: JobContext):
        app = app_context(ctx)                       # a Context for the job
        async with transaction(app):                 # writes and jobs commit together
            ...

The package's folders follow its concerns (see ``docs/architecture.md``): ``core``
(settings, logging, metrics, errors, Redis, database), ``auth``, ``data`` (services,
queries, cache), ``graphql`` (the app and its executor) and ``jobs``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # the app
    "create_app": "flowgen_runtime.graphql.app",
    "Registry": "flowgen_runtime.graphql.registry",
    "Settings": "flowgen_runtime.core.settings",
    "get_settings": "flowgen_runtime.core.settings",
    # data access
    "Context": "flowgen_runtime.data.context",
    "EntityService": "flowgen_runtime.data.service",
    "transaction": "flowgen_runtime.jobs.outbox",
    "WriteEvent": "flowgen_runtime.data.hooks",
    "Extensions": "flowgen_runtime.graphql.extensions",
    # who the caller is
    "Identity": "flowgen_runtime.auth.access",
    # jobs
    "JobContext": "flowgen_runtime.jobs.runner",
    "JobQueues": "flowgen_runtime.jobs.enqueue",
    "UnrecoverableJobError": "flowgen_runtime.jobs.runner",
    "app_context": "flowgen_runtime.jobs.main",
    "enqueue_job": "flowgen_runtime.jobs.api",
    # errors clients see
    "FlowgenError": "flowgen_runtime.core.errors",
    "UserInputError": "flowgen_runtime.core.errors",
    "NotFoundError": "flowgen_runtime.core.errors",
    "ConflictError": "flowgen_runtime.core.errors",
    "ForbiddenError": "flowgen_runtime.core.errors",
    "UnauthenticatedError": "flowgen_runtime.core.errors",
}

__all__ = [
    "ConflictError",
    "Context",
    "EntityService",
    "Extensions",
    "FlowgenError",
    "ForbiddenError",
    "Identity",
    "JobContext",
    "JobQueues",
    "NotFoundError",
    "Registry",
    "Settings",
    "UnauthenticatedError",
    "UnrecoverableJobError",
    "UserInputError",
    "WriteEvent",
    "app_context",
    "create_app",
    "enqueue_job",
    "get_settings",
    "transaction",
]

if TYPE_CHECKING:
    from flowgen_runtime.auth.access import Identity
    from flowgen_runtime.core.errors import (
        ConflictError,
        FlowgenError,
        ForbiddenError,
        NotFoundError,
        UnauthenticatedError,
        UserInputError,
    )
    from flowgen_runtime.core.settings import Settings, get_settings
    from flowgen_runtime.data.context import Context
    from flowgen_runtime.data.hooks import WriteEvent
    from flowgen_runtime.data.service import EntityService
    from flowgen_runtime.graphql.app import create_app
    from flowgen_runtime.graphql.extensions import Extensions
    from flowgen_runtime.graphql.registry import Registry
    from flowgen_runtime.jobs.api import enqueue_job
    from flowgen_runtime.jobs.enqueue import JobQueues
    from flowgen_runtime.jobs.main import app_context
    from flowgen_runtime.jobs.outbox import transaction
    from flowgen_runtime.jobs.runner import JobContext, UnrecoverableJobError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowgen_runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
