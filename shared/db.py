"""Database base: the declarative base, the engine and the session factory.

SQLite (embedded) and PostgreSQL (production) run the same code. SQLite allows one writer at
a time; every transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the
busy timeout instead of failing when a read transaction tries to upgrade to a write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, event, exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from shared.clock import as_utc

log = logging.getLogger(__name__)

# How long a writer waits for SQLite's one write lock before failing (milliseconds).
_BUSY_TIMEOUT_MS = 30000
# How long the checkpoint after an erasure waits for readers still on an older snapshot
# (SQLite's busy handler retries meanwhile). Short: while it waits, every writer waits too.
_ERASURE_CHECKPOINT_WAIT_MS = 2000

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """The async engine for ``database_url``: SQLite with writers queued, PostgreSQL with a pool."""
    if database_url.startswith("sqlite"):
        _create_private(make_url(database_url).database)
        engine = create_async_engine(database_url, echo=echo, connect_args={"timeout": 30})
        _serialise_sqlite_writers(engine)
        return engine
    engine = create_async_engine(database_url, echo=echo, pool_size=10, max_overflow=20)
    _discard_closed_connections(engine)
    return engine


def _create_private(database: str | None) -> None:
    """Creates the SQLite file, if missing, readable by its owner only: it holds the public
    part of every case in clear, pending and rejected ones too, and SQLite gives its journal
    and write-ahead log the database's permissions. An existing file keeps its own."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server has closed (a restart, a terminated backend) is
    replaced at checkout, so the first transaction after a restart does not fail.

    SQLAlchemy's ``pool_pre_ping`` finds those too, but pays for it on every checkout: on
    asyncpg its ping is BEGIN, an empty query and ROLLBACK, three round trips before each
    transaction, several of them on the path from approval to partner. The server closes
    the socket when a backend ends, and the driver notices as soon as the event loop reads
    it, so asking the driver costs nothing."""

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # The pool drops this connection and checks out (or opens) another.
            raise exc.DisconnectionError("the server closed this connection")


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN IMMEDIATE is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def truncate_wal_once_committed(session: AsyncSession) -> None:
    """Once the session's transaction commits, SQLite's write-ahead log is written back into
    the database file and truncated: for a transaction that erases personal data.

    On SQLite in WAL mode a change is appended to the ``-wal`` file; the pages it replaced,
    the erased values in them, stay in earlier frames of that file until a checkpoint, which
    runs on its own only once the log has grown to a thousand pages, or at the last close.
    ``secure_delete`` (SQLite's build default here) zeroes what is deleted in the database
    file, not in the log. TRUNCATE copies every frame back and empties the file.

    Nothing on PostgreSQL: an UPDATE there leaves the old row version as a dead tuple, which
    (auto)vacuum marks reusable without overwriting it, and the server's own WAL segments are
    recycled on its schedule; a VACUUM here would not clear the bytes either (VACUUM FULL,
    which rewrites the table, takes an exclusive lock). The server's disks are protected as
    a whole (encryption at rest), as are its backups."""
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        return
    event.listen(session.sync_session, "after_commit", lambda _: _truncate_wal(engine), once=True)


def _truncate_wal(engine: Engine) -> None:
    """``PRAGMA wal_checkpoint(TRUNCATE)`` on a connection of its own, outside any transaction
    (a checkpoint refuses to run inside one). It waits for readers on an older snapshot, which
    SQLite retries for ``_ERASURE_CHECKPOINT_WAIT_MS``; if some still hold the log then, it
    stays as it is and is only logged: the erasure has committed, and the next erasure's
    checkpoint, or the last connection's close at shutdown, empties it."""
    try:
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout={_ERASURE_CHECKPOINT_WAIT_MS}")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                # (busy, frames in the log, frames written back): busy 1 when readers held it.
                blocked, _, _ = cursor.fetchone() or (1, None, None)
            finally:
                cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
                cursor.close()
    except (exc.SQLAlchemyError, sqlite3.Error):
        log.warning("write-ahead log not truncated after an erasure", exc_info=True)
        return
    if blocked:
        log.warning("write-ahead log not truncated after an erasure: readers held it")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; objects stay readable after commit (services return them)."""
    # A Session subclass per factory, so session event listeners (the relay's wake-up) stay
    # scoped to this factory instead of every Session in the process.
    scoped_class = type("TifliSession", (Session,), {})
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=scoped_class)


def insert_on_conflict(session: AsyncSession, table: Any) -> Any:
    """An INSERT into ``table`` in the session's database's own dialect: one that has
    ``on_conflict_do_nothing`` and ``on_conflict_do_update`` (PostgreSQL's and SQLite's,
    alike), for rows that two transactions may write at once."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
