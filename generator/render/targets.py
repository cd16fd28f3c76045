"""The one table of generated files: template, scope, output path, condition.

``scope`` says what a template receives: ``app`` -> ``app`` (:class:`AppView`),
``entity`` -> ``entity`` (:class:`EntityView`) once per entity, ``queue`` -> ``queue``
(:class:`QueueView`) once per queue. Paths are relative to the output package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Target:
    template: str
    scope: Literal["app", "entity", "queue"]
    path: str
    when: Callable[[Any], bool] | None = None


TARGETS: tuple[Target, ...] = (
    Target("package_init.py.j2", "app", "__init__.py"),
    Target("schema/base.graphql.j2", "app", "schema/_base.graphql"),
    Target("schema/entity.graphql.j2", "entity", "schema/{module}.graphql"),
    Target("schema/jobs.graphql.j2", "app", "schema/_jobs.graphql", lambda a: bool(a.queues)),
    Target("models/base.py.j2", "app", "models/base.py"),
    Target("models/init.py.j2", "app", "models/__init__.py"),
    Target("models/entity.py.j2", "entity", "models/{module}.py"),
    Target("services/init.py.j2", "app", "services/__init__.py"),
    Target("services/entity.py.j2", "entity", "services/{module}.py"),
    Target("resolvers/init.py.j2", "app", "resolvers/__init__.py"),
    Target("resolvers/entity.py.j2", "entity", "resolvers/{module}.py"),
    Target("resolvers/jobs.py.j2", "app", "resolvers/_jobs.py"),
    Target("queues/init.py.j2", "app", "queues/__init__.py"),
    Target("queues/queue.py.j2", "queue", "queues/{module}.py"),
    Target("workers/init.py.j2", "app", "workers/__init__.py"),
    Target("workers/queue.py.j2", "queue", "workers/{module}.py"),
    Target("registry.py.j2", "app", "registry.py"),
    Target("server.py.j2", "app", "server.py"),
    Target("worker.py.j2", "app", "worker.py"),
    Target("queue_monitor.py.j2", "app", "queue_monitor.py"),
    Target("migrations/env.py.j2", "app", "migrations/env.py"),
    Target("migrations/script.py.mako.j2", "app", "migrations/script.py.mako"),
    Target("deploy/Dockerfile.j2", "app", "deploy/Dockerfile"),
    Target("deploy/docker-compose.yml.j2", "app", "deploy/docker-compose.yml"),
    Target("deploy/prometheus.yml.j2", "app", "deploy/prometheus.yml"),
    Target("deploy/alerts.yml.j2", "app", "deploy/alerts.yml"),
)
