"""The async SQLAlchemy database of a generated backend.

:class:`Database` owns the engine and the session factory::

    db = database_from_settings(get_settings())
    async with db.session() as session:
        session.add(user)
        await session.commit()
    await db.dispose()

It works the same on PostgreSQL (asyncpg) and SQLite (aiosqlite). On SQLite
every connection turns on foreign keys (off by default in SQLite), WAL
journaling and a 5 s busy timeout, so the API server and a worker process can
share one database file.

The ``is_*_violation`` helpers and :func:`violated_constraint` read an
:class:`~sqlalchemy.exc.IntegrityError` the same way for both databases, so
generated resolvers can turn a duplicate email into a clean GraphQL error::

    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise UserInputError(f"already exists ({violated_constraint(exc)})")
        raise
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from flowgen_runtime.core.settings import Settings
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

__all__ = [
    "NAMING_CONVENTION",
    "Database",
    "ReadConnection",
    "database_from_settings",
    "is_check_violation",
    "is_fk_violation",
    "is_not_null_violation",
    "is_unique_violation",
    "violated_constraint",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names for ``MetaData(naming_convention=...)``: stable across databases,
so migrations and :func:`violated_constraint` can rely on them."""


class Database:
    """An async engine plus session factories, optionally with a read replica.

    ``url`` must name an async driver (``postgresql+asyncpg://`` or
    ``sqlite+aiosqlite://``); :meth:`Settings.async_database_url` produces one.
    Sessions keep loaded objects usable after commit (``expire_on_commit=False``),
    which async code needs because it cannot lazy-load attributes afterwards.
    """

    def __init__(self, url: str, *, echo: bool = False, replica_url: str | None = None) -> None:
        self.url = url
        self.engine: AsyncEngine = _create_engine(url, echo=echo)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        self.read_engine: AsyncEngine = (
            _create_engine(replica_url, echo=echo) if replica_url else self.engine
        )
        self.read_sessionmaker: async_sessionmaker[AsyncSession] = (
            async_sessionmaker(self.read_engine, expire_on_commit=False)
            if replica_url
            else self.sessionmaker
        )
        self._driver_pool: Any = None
        self._driver_pool_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        """True when the primary database is SQLite."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session on the primary database, closed (and rolled back if uncommitted) on exit.

        Nothing is committed for you: call ``await session.commit()``.
        """
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session on the read replica (the primary when there is none), for queries only."""
        async with self.read_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ReadConnection]:
        """A connection on the read replica in autocommit mode: a single SELECT needs no
        ``BEGIN``/``ROLLBACK`` round trips around it. A statement that finds the
        connection dead is run once more on a new one (see :class:`ReadConnection`)."""
        reader = ReadConnection(self.read_engine)
        try:
            yield reader
        finally:
            await reader.close()

    async def driver_value(self, sql: str, *params: Any) -> Any:
        """One value of SQL already compiled for the read engine's driver (asyncpg's
        ``fetchval``), on a pooled connection, outside any transaction. A connection that
        turns out to be dead is dropped and the read runs once more on a new one."""
        pool = self._driver_pool or await self._open_driver_pool()
        for attempt in (0, 1):
            async with pool.acquire() as driver:
                try:
                    return await driver.fetchval(sql, *params)
                except Exception as exc:
                    if attempt or not _is_disconnect(exc):
                        raise
                    with contextlib.suppress(Exception):  # already dropped by the pool
                        driver.terminate()  # the pool opens a new one
        raise AssertionError("unreachable")

    async def _open_driver_pool(self) -> Any:
        """asyncpg's own pool beside SQLAlchemy's, for :meth:`driver_value`: a checkout
        through SQLAlchemy (Connection, pool fairy, greenlet) cost about a tenth of a
        compiled primary-key read; asyncpg's acquire is a queue get."""
        import asyncpg

        async with self._driver_pool_lock:
            if self._driver_pool is None:
                url = make_url(self.read_engine.url).set(drivername="postgresql")
                self._driver_pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False), min_size=1, max_size=POOL_SIZE,
                    reset=_nothing_to_reset,
                )  # fmt: skip
        return self._driver_pool

    async def ping(self, timeout: float = 2.0) -> bool:
        """True when ``SELECT 1`` succeeds within ``timeout`` seconds; never raises."""
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection (call on shutdown)."""
        pool, self._driver_pool = self._driver_pool, None
        if pool is not None:
            await pool.close()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


class ReadConnection:
    """An autocommit connection for reads that survives a connection the server dropped.

    The pool does not ping a connection when it hands it out (no ``pool_pre_ping``,
    which costs a round trip per checkout: ``BEGIN``, ``;``, ``ROLLBACK`` on asyncpg);
    it only refuses one whose socket the server already closed (a restart, a terminated
    backend; see :func:`_refuse_closed_connection`). A connection lost without a sign (a
    network partition, a proxy that dropped it) is found by its first statement: then
    SQLAlchemy invalidates that connection and every other one opened before it, and the
    statement, a read and so safe to repeat, runs once more on a new connection.
    Connections are also replaced after ``RECYCLE_S`` seconds, before idle-connection
    timeouts close them.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self.engine.connect()
            if self.engine.dialect.name != "sqlite":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            # SQLite's driver opens no transaction for a SELECT anyway; setting the
            # isolation level would cost two more hops to aiosqlite's thread per read
            self._conn = conn
        return self._conn

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await (await self._connection()).execute(statement, *args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        await self.close()
        return await (await self._connection()).execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return (await self.execute(statement, *args, **kwargs)).scalar()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


async def _nothing_to_reset(_connection: Any) -> None:
    """The driver pool runs single SELECTs outside transactions, which leave no session
    state (no SET, LISTEN, advisory lock or cursor): asyncpg's default reset on release
    (``RESET ALL; UNLISTEN *; ...``, one round trip per read) has nothing to undo. An
    open transaction would still be rolled back by asyncpg itself."""


def _is_disconnect(exc: Exception) -> bool:
    """True when asyncpg's ``exc`` means the connection is gone (not a bad statement):
    SQLSTATE class 08, the server shutting the session down (57P01...), or the socket."""
    from asyncpg import exceptions as pg

    gone = (ConnectionError, OSError, pg.PostgresConnectionError, pg.InterfaceError)
    # a statement timeout (QueryCanceledError) is not a lost connection
    shutdown = isinstance(exc, pg.OperatorInterventionError) and not isinstance(
        exc, pg.QueryCanceledError
    )
    return isinstance(exc, gone) or shutdown


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) means the database cannot be reached now:
    connection refused or lost, the server shutting down or out of connections, the pool
    exhausted. Such a request may simply be retried (HTTP 503, ``SERVICE_UNAVAILABLE``)."""
    from asyncpg import exceptions as pg
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(
            e, sa_exc.TimeoutError | pg.TooManyConnectionsError | pg.CannotConnectNowError
        ):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, Exception) and _is_disconnect(e):
            return True
        stack += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return False


def database_from_settings(settings: Settings) -> Database:
    """The :class:`Database` described by DATABASE_URL (or the embedded SQLite file)."""
    return Database(
        settings.async_database_url(),
        echo=settings.debug and settings.log_level == "DEBUG",
        replica_url=settings.async_replica_url(),
    )


POOL_SIZE = 10
"""Connections per process, all kept open: a request that finds them all busy waits for
one (no overflow connections: opening and closing one per request under load costs a
TLS attempt, type introspection and cold prepared statements, more than the wait)."""

RECYCLE_S = 1800
"""Pooled connections older than this are replaced when next checked out (no pre-ping:
see :class:`ReadConnection`)."""


def _create_engine(url: str, *, echo: bool) -> AsyncEngine:
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_async_engine(
            url, echo=echo, pool_size=POOL_SIZE, max_overflow=0, pool_recycle=RECYCLE_S
        )
        event.listen(engine.sync_engine.pool, "checkout", _refuse_closed_connection)
        return engine
    engine = create_async_engine(url, echo=echo, pool_recycle=RECYCLE_S)
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no connection the server already closed: a restart, a failover or an
    operator's ``pg_terminate_backend`` closes the sockets of idle pooled connections,
    and asyncpg notices it without a round trip (``is_closed()``). Raising
    DisconnectionError makes the pool drop it and check out another one, so the next read
    or write after a restart succeeds instead of failing on its first statement. A
    connection lost silently (no FIN, e.g. a network partition) is still only found by
    its first statement: reads are then repeated (:class:`ReadConnection`)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("connection closed by the server while idle in the pool")


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Runs for every new connection: these pragmas are per connection, not per file.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer across processes
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    cursor.close()


# --- Integrity errors -------------------------------------------------------
# PostgreSQL reports a SQLSTATE code and the constraint name (asyncpg puts the
# driver exception in ``exc.orig.__cause__``; psycopg2 has ``exc.orig.diag``).
# SQLite reports an extended error code name and a message such as
# "UNIQUE constraint failed: users.email".

_PG_UNIQUE, _PG_FK, _PG_CHECK, _PG_NOT_NULL = "23505", "23503", "23514", "23502"
_SQLITE_MESSAGE = re.compile(r"^(UNIQUE|FOREIGN KEY|CHECK|NOT NULL) constraint failed(?:: (.+))?$")
_SQLITE_KINDS = {
    "SQLITE_CONSTRAINT_UNIQUE": "UNIQUE",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "UNIQUE",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "FOREIGN KEY",
    "SQLITE_CONSTRAINT_CHECK": "CHECK",
    "SQLITE_CONSTRAINT_NOTNULL": "NOT NULL",
}
_PG_KINDS = {
    _PG_UNIQUE: "UNIQUE",
    _PG_FK: "FOREIGN KEY",
    _PG_CHECK: "CHECK",
    _PG_NOT_NULL: "NOT NULL",
}


def _driver_error(exc: IntegrityError) -> BaseException | None:
    """The database driver's own exception behind SQLAlchemy's wrapper."""
    orig: BaseException | None = exc.orig
    # The asyncpg adapter wraps asyncpg's exception once more and chains it as __cause__.
    if orig is not None and orig.__cause__ is not None and hasattr(orig.__cause__, "sqlstate"):
        return orig.__cause__
    return orig


def _violation(exc: IntegrityError) -> tuple[str | None, str | None]:
    """``(kind, constraint)`` with kind one of UNIQUE, FOREIGN KEY, CHECK, NOT NULL."""
    error = _driver_error(exc)
    if isinstance(error, sqlite3.Error):
        match = _SQLITE_MESSAGE.match(str(error.args[0]) if error.args else "")
        kind = _SQLITE_KINDS.get(getattr(error, "sqlite_errorname", ""))
        if match is None:
            return kind, None
        return kind or match.group(1), match.group(2)
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    constraint = getattr(error, "constraint_name", None)
    diag = getattr(error, "diag", None)  # psycopg2
    if constraint is None and diag is not None:
        constraint = diag.constraint_name
    if constraint is None and code == _PG_NOT_NULL:
        column = getattr(error, "column_name", None) or getattr(diag, "column_name", None)
        table = getattr(error, "table_name", None) or getattr(diag, "table_name", None)
        constraint = f"{table}.{column}" if table and column else None
    return _PG_KINDS.get(str(code)), constraint


def is_unique_violation(exc: IntegrityError) -> bool:
    """True for a duplicate value in a unique constraint, unique index or primary key."""
    return _violation(exc)[0] == "UNIQUE"


def is_fk_violation(exc: IntegrityError) -> bool:
    """True when a foreign key points to a missing row (or a referenced row is still used)."""
    return _violation(exc)[0] == "FOREIGN KEY"


def is_check_violation(exc: IntegrityError) -> bool:
    """True when a CHECK constraint failed."""
    return _violation(exc)[0] == "CHECK"


def is_not_null_violation(exc: IntegrityError) -> bool:
    """True when NULL was written to a NOT NULL column."""
    return _violation(exc)[0] == "NOT NULL"


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the violated constraint when the database reports it.

    PostgreSQL gives the constraint name (``uq_users_email``); for NOT NULL, which
    has no name, ``table.column``. SQLite gives the columns of a unique or NOT NULL
    violation (``users.email``, or ``users.a, users.b``) and the name of a CHECK
    constraint, but nothing for a foreign key: then this returns None.
    """
    return _violation(exc)[1]
