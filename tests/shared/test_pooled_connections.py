"""Pooled PostgreSQL connections outlive a server restart without costing a round trip each
checkout: a connection the server closed is replaced when it is checked out, and no
transaction after the restart fails for it. Each test runs its own server."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.testbed.backing_servers import StopMode, postgres_server
from shared.db import create_engine

POOLED = 5  # connections opened, and reused after the restart


async def _backend_pids(engine: AsyncEngine) -> set[int]:
    """Which server processes answer ``POOLED`` concurrent transactions (one per connection)."""
    ready = asyncio.Barrier(POOLED)

    async def one() -> int:
        async with engine.begin() as connection:
            await ready.wait()  # all checked out at once: the pool holds POOLED connections
            return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    return set(await asyncio.gather(*(one() for _ in range(POOLED))))


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_restart_fails_no_transaction_and_checkouts_send_no_ping(
    monkeypatch: pytest.MonkeyPatch, mode: StopMode
) -> None:
    monkeypatch.delenv("TIFLI_TEST_DATABASE_URL", raising=False)
    with postgres_server() as server:
        engine = create_engine(server.url)
        pings: list[DBAPIConnection] = []
        ping = engine.dialect.do_ping

        def counted_ping(connection: DBAPIConnection) -> bool:
            pings.append(connection)
            return ping(connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
        try:
            before = await _backend_pids(engine)
            assert len(before) == POOLED
            await asyncio.to_thread(server.stop, mode)  # "immediate": as after a crash
            await asyncio.to_thread(server.start)
            # Every pooled connection is dead; none of these transactions may fail for it.
            after = await _backend_pids(engine)
            assert len(after) == POOLED and not before & after
            assert await _backend_pids(engine) == after  # the new ones are pooled and reused
        finally:
            await engine.dispose()
        assert pings == []  # a checkout asks the driver, not the server
