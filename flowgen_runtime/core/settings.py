"""Settings of a generated backend, read from the environment and ``.env``.

Every setting is an environment variable without prefix (``DATABASE_URL``,
``REDIS_URL``, ``PORT`` …) except ``FLOWGEN_DATA_DIR`` and ``FLOWGEN_DEBUG``.
A ``.env`` file in the current directory is read too; real environment
variables win over it, and empty values count as unset.

With nothing configured a backend runs on its own: the database is a SQLite
file and Redis an embedded server, both under ``FLOWGEN_DATA_DIR``
(``.flowgen`` by default)::

    >>> settings = get_settings()
    >>> settings.async_database_url()
    'sqlite+aiosqlite:////home/me/project/.flowgen/app.db'

A bad value stops the process with a message naming the variable::

    >>> load_settings()   # with PORT=abc
    ConfigError: invalid environment variable PORT: Input should be a valid integer, ...
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["ConfigError", "Settings", "get_settings", "load_settings"]

_POSTGRES_SCHEMES = frozenset(
    {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2"}
)
_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite"})
_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class ConfigError(Exception):
    """The environment holds a setting that cannot be used; the message names it."""


class Settings(BaseSettings):
    """All runtime settings. Build with :func:`get_settings` (cached) or directly in tests."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        env_ignore_empty=True,
        use_attribute_docstrings=True,
    )

    database_url: str | None = None
    """SQLAlchemy URL (postgresql://, postgres://, sqlite:///path, …); unset: SQLite in data_dir."""
    database_replica_url: str | None = None
    """Optional read replica used by read-only sessions."""
    redis_url: str | None = None
    """redis://, rediss:// or unix:// URL; unset: an embedded redis-server in data_dir."""
    redis_timeout: float = Field(default=0.25, gt=0)
    """Seconds a cache operation may take before it is given up."""
    data_dir: str = Field(default=".flowgen", validation_alias="FLOWGEN_DATA_DIR")
    """Directory of the embedded SQLite file and the embedded Redis server."""
    debug: bool = Field(default=False, validation_alias="FLOWGEN_DEBUG")
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_page_size: int = Field(default=100, gt=0)
    default_page_size: int = Field(default=20, gt=0)
    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_jwks_file: str | None = None
    """A JWKS document on disk (RS256/ES256); the token's ``kid`` picks the key."""
    jwt_user_claim: str = "sub"
    """Dotted path of the claim holding the user id."""
    jwt_roles_claim: str = "roles"
    """Dotted path of the claim holding the roles (a list, or a space-separated string)."""
    jwt_leeway_s: int = Field(default=0, ge=0)
    admin_roles: str = "admin"
    """Comma-separated roles that see every job's status and may use the queue monitor."""
    queue_prefix: str = "bull"
    """Key prefix of the BullMQ queues."""
    redis_cluster: bool = False
    """Redis is a Redis Cluster: queue keys get a hash tag (``{bull}``), see queue_key_prefix."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """A worker process serves ``/metrics`` on this port (the server always serves it)."""
    worker_stalled_interval_ms: int = Field(default=30000, gt=0)
    """How often workers look for jobs whose worker died (BullMQ ``stalledInterval``)."""
    worker_lock_duration_ms: int = Field(default=30000, gt=0)
    """A job's lock without renewal; a killed worker's job counts as stalled after it."""
    outbox_relay_interval_s: float = Field(default=5, ge=0)
    """How often each server and worker process relays jobs left in the outbox table by a
    process that died between a commit and its ``add`` (0: never)."""
    outbox_relay_after_s: float = Field(default=30, ge=0)
    """Age of an outbox row before the relay takes it (its own process is still adding it
    until then)."""
    monitor_token: str | None = None
    """Bearer token of the ``/monitor`` HTTP API; unset: that API is disabled."""
    job_events_max_s: float = Field(default=300, gt=0)
    """Longest a ``/jobs/{queue}/{id}/events`` stream stays open (clients reconnect)."""
    job_events_poll_ms: int = Field(default=200, gt=0)
    """How often such a stream re-reads the job."""
    job_events_heartbeat_s: float = Field(default=15, gt=0)
    """Seconds of silence after which such a stream sends a keep-alive comment."""
    cache_enabled: bool = True
    max_query_depth: int = Field(default=15, gt=0)
    """Deepest field nesting a query may have (connections count two levels: edges, node)."""
    max_query_cost: int = Field(default=20000, gt=0)
    """Highest cost a query may have: each field costs 1, multiplied by first/last above it."""
    max_query_fields: int = Field(default=1000, gt=0)
    """Most fields (aliases included, fragments expanded) one operation may select."""
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    """Largest ``POST /graphql`` body (bytes); a larger one is refused with HTTP 413."""
    max_header_bytes: int = Field(default=16_384, gt=0)
    """Largest total size of a request's headers (bytes); more is refused with HTTP 431."""
    document_cache_bytes: int = Field(default=16_777_216, gt=0)
    """Total query text the parsed-document cache holds (bytes; least recently used out)."""
    introspection: bool | None = None
    """Answer ``__schema``/``__type`` queries (the GraphiQL explorer needs them); unset:
    on only with ``FLOWGEN_DEBUG`` (and under ``gen dev``), off in production."""
    cache_prefix: str = "fg"
    """Key prefix of cached reads (several apps or test runs can share one Redis)."""
    compiled_execution: bool = True
    """On PostgreSQL, answer queries whose reads are all generated ones with one SQL
    statement (:mod:`flowgen_runtime.graphql.execution`); false: graphql-core executes every
    request (the results are the same, only slower)."""

    @property
    def introspection_on(self) -> bool:
        return self.debug if self.introspection is None else self.introspection

    @model_validator(mode="before")
    @classmethod
    def _accept_field_names(cls, data: Any) -> Any:
        # FLOWGEN_DATA_DIR and FLOWGEN_DEBUG are the only names read from the environment
        # (a stray DEBUG or DATA_DIR must not leak in), but Settings(data_dir=...) still works.
        if isinstance(data, dict):
            for name, alias in (("data_dir", "FLOWGEN_DATA_DIR"), ("debug", "FLOWGEN_DEBUG")):
                if name in data:
                    data = {**data, alias: data[name]}
                    del data[name]
        return data

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None:
            _database_kind(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None:
            scheme = value.partition("://")[0].lower()
            if "://" not in value or scheme not in _REDIS_SCHEMES:
                raise ValueError(
                    f"unsupported Redis URL {value!r}; use redis://, rediss:// or unix://"
                )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _check_page_sizes(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"DEFAULT_PAGE_SIZE ({self.default_page_size}) must not exceed "
                f"MAX_PAGE_SIZE ({self.max_page_size})"
            )
        return self

    @property
    def is_embedded_db(self) -> bool:
        """True when no DATABASE_URL is set and the SQLite file in data_dir is used."""
        return self.database_url is None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite (embedded or an explicit sqlite URL)."""
        return self.database_url is None or _database_kind(self.database_url) == "sqlite"

    @property
    def is_embedded_redis(self) -> bool:
        """True when no REDIS_URL is set and the embedded redis-server is used."""
        return self.redis_url is None

    @property
    def queue_key_prefix(self) -> str:
        """The BullMQ ``prefix`` to use: QUEUE_PREFIX, hash-tagged on a Redis Cluster.

        BullMQ's Lua scripts touch several keys of a queue at once, which a cluster allows
        only within one hash slot; ``{bull}:exam:wait`` and every other key hash by ``bull``.

        >>> Settings(queue_prefix="bull", redis_cluster=True).queue_key_prefix
        '{bull}'
        """
        if not self.redis_cluster or self.queue_prefix.startswith("{"):
            return self.queue_prefix
        return f"{{{self.queue_prefix}}}"

    @property
    def data_path(self) -> str:
        """data_dir as an absolute path (not created)."""
        return os.path.abspath(os.path.expanduser(self.data_dir))

    def async_database_url(self) -> str:
        """The URL for the async engine: ``postgresql+asyncpg://…`` or ``sqlite+aiosqlite:///…``.

        Relative SQLite paths become absolute, so every process opens the same
        file whatever its working directory later becomes.
        """
        return _driver_url(self._database_url(), "postgresql+asyncpg", "sqlite+aiosqlite")

    def async_replica_url(self) -> str | None:
        """Like :meth:`async_database_url` for DATABASE_REPLICA_URL, or None."""
        if self.database_replica_url is None:
            return None
        return _driver_url(self.database_replica_url, "postgresql+asyncpg", "sqlite+aiosqlite")

    def sync_database_url(self) -> str:
        """The URL for synchronous tools such as Alembic: ``postgresql+psycopg2://…`` or ``sqlite:///…``."""
        return _driver_url(self._database_url(), "postgresql+psycopg2", "sqlite")

    def _database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        os.makedirs(self.data_path, exist_ok=True)
        return f"sqlite:///{os.path.join(self.data_path, 'app.db')}"


def _database_kind(url: str) -> Literal["postgresql", "sqlite"]:
    scheme = url.partition("://")[0].lower()
    if "://" in url and scheme in _POSTGRES_SCHEMES:
        return "postgresql"
    if "://" in url and scheme in _SQLITE_SCHEMES:
        return "sqlite"
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}; "
        "use postgresql://user@host/db or sqlite:///path/to/file.db"
    )


def _driver_url(url: str, postgres_driver: str, sqlite_driver: str) -> str:
    """Rewrite ``url`` for the given driver, keeping everything else."""
    try:
        parsed: URL = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL: {exc}") from exc
    query = dict(parsed.query)
    if _database_kind(url) == "postgresql":
        # asyncpg spells libpq's "sslmode" as "ssl" (same values); psycopg2 the other way.
        if postgres_driver.endswith("asyncpg") and "sslmode" in query:
            query["ssl"] = query.pop("sslmode")
        elif postgres_driver.endswith("psycopg2") and "ssl" in query:
            query["sslmode"] = query.pop("ssl")
        parsed = parsed.set(drivername=postgres_driver, query=query)
    else:
        # Built by hand: SQLAlchemy would percent-encode ":memory:".
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            database = os.path.abspath(os.path.expanduser(database))
        suffix = f"?{urlencode(query, doseq=True)}" if query else ""
        return f"{sqlite_driver}:///{database}{suffix}"
    return parsed.render_as_string(hide_password=False)


def _env_names() -> dict[str, str]:
    """Map each field name and alias to the environment variable users set."""
    names: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        env = name.upper()
        if isinstance(field.validation_alias, str):
            env = field.validation_alias
        names[name] = names[env] = names[env.lower()] = env
    return names


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning validation failures into a :class:`ConfigError`.

    ``overrides`` are passed to :class:`Settings` as field values (for tests and tools).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        names = _env_names()
        problems = []
        for error in exc.errors():
            loc = str(error["loc"][0]) if error["loc"] else ""
            message = error["msg"].removeprefix("Value error, ")
            if loc:
                problems.append(f"invalid environment variable {names.get(loc, loc)}: {message}")
            else:
                problems.append(f"invalid configuration: {message}")
        raise ConfigError("; ".join(problems)) from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; ``get_settings.cache_clear()`` re-reads them."""
    return load_settings()
