"""One classification of errors: what the database says "later" to is waited out, never
dead-lettered or answered 500; what it refuses for good is not."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from services.testbed.loopback import free_port
from shared.db import create_engine
from shared.transient_errors import describe, is_transient, is_transient_sqlstate, sqlstate_of


@pytest.mark.parametrize(
    ("exception", "transient"),
    [
        (asyncpg.exceptions.AdminShutdownError, True),  # 57P01
        (asyncpg.exceptions.CrashShutdownError, True),  # 57P02
        (asyncpg.exceptions.CannotConnectNowError, True),  # 57P03: starting up, recovering
        (asyncpg.exceptions.SerializationError, True),  # 40001
        (asyncpg.exceptions.DeadlockDetectedError, True),  # 40P01
        (asyncpg.exceptions.TooManyConnectionsError, True),  # 53300
        (asyncpg.exceptions.ConnectionDoesNotExistError, True),  # 08003
        (asyncpg.exceptions.UniqueViolationError, False),  # 23505: a fact, not a blip
        (asyncpg.exceptions.UndefinedTableError, False),  # 42P01: a bug
        (asyncpg.exceptions.QueryCanceledError, False),  # 57014: not one of the 57P0x
    ],
)
def test_postgres_errors_by_sqlstate(exception: type[Exception], transient: bool) -> None:
    error = exception("the server said so")
    assert is_transient(error) is transient
    # Wrapped the way SQLAlchemy's asyncpg dialect raises it, the answer is the same.
    wrapped = IntegrityError("INSERT …", {}, error)
    assert sqlstate_of(wrapped) == exception.sqlstate  # type: ignore[attr-defined]
    assert is_transient(wrapped) is transient
    assert describe(wrapped)["sqlstate"] == exception.sqlstate  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("state", "transient"),
    [("08006", True), ("53100", True), ("57P03", True), ("57P04", False), ("23503", False)],
)
def test_sqlstate_classes(state: str, transient: bool) -> None:
    assert is_transient_sqlstate(state) is transient


async def test_a_database_that_does_not_answer_is_transient() -> None:
    engine = create_engine(f"postgresql+asyncpg://tifli:tifli@127.0.0.1:{free_port()}/tifli")
    try:
        with pytest.raises(ConnectionRefusedError) as raised:  # nobody listens there
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert is_transient(raised.value)
    assert describe(raised.value)["error"] == type(raised.value).__name__


async def test_a_pool_with_every_connection_busy_is_transient(tmp_path: Path) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    try:
        async with engine.connect():  # the only connection, held
            with pytest.raises(PoolTimeout) as raised:
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
    assert is_transient(raised.value)


def test_errors_of_the_work_itself_are_not_transient() -> None:
    assert not is_transient(ValueError("bad input"))
    assert not is_transient(KeyError("missing"))


async def test_a_sqlite_schema_not_the_codes_is_not_waited_out_but_a_lock_is(
    tmp_path: Path,
) -> None:
    """Both are SQLite OperationalErrors: a missing table (an upgrade not run) never passes
    with time, and says what to do; a database locked by another writer does."""
    path = tmp_path / "tifli.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            with pytest.raises(OperationalError) as missing:
                await connection.execute(text("SELECT alert_id FROM known_alerts"))
    finally:
        await engine.dispose()
    assert not is_transient(missing.value)
    assert "tifli db upgrade" in describe(missing.value)["reason"]

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    waiting = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.1})
    try:
        async with waiting.connect() as connection:
            with pytest.raises(OperationalError) as locked:
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        await waiting.dispose()
        holder.close()
    assert is_transient(locked.value)
    assert "reason" not in describe(locked.value)
