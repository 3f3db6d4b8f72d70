"""Audit chain cost on PostgreSQL: ``.venv/bin/python -m bench.audit_chain --entries 2000``.

Appends, ``--concurrency`` transactions at a time, each one entry and its commit:

* baseline: one insert into an unchained table of the same columns (no lock, no hash);
* chained: an ``AuditEntry`` through the model (the head row locked FOR UPDATE until commit,
  the SHA-256 computed, the head updated), as every audited act writes it.

Rounds alternate between the two; the median round is reported. Then ``tifli audit verify``'s
walk over every chained entry written, in entries per second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity, MetaData, String, Table, insert

from intake_api.audit_log import verify
from intake_api.models import AuditEntry
from services.database import upgrade
from services.testbed.backing_servers import postgres_server
from services.testbed.production import fresh_database
from shared.db import create_engine, session_factory

metadata = MetaData()
bare_audit = Table(
    "bare_audit",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True)),
    Column("key_id", String(16)),
    Column("action", String(32)),
    Column("report_id", String(36)),
)


async def _rate(append: Callable[[int], Awaitable[None]], entries: int, concurrency: int) -> float:
    remaining = iter(range(entries))

    async def worker() -> None:
        for n in remaining:
            await append(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return entries / (time.perf_counter() - started)


async def run(entries: int, concurrency: int, rounds: int) -> None:
    with postgres_server() as server:
        url = await fresh_database(server.url)
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        row = {"key_id": "3f9a1c2b7d4e", "action": "approve"}

        async def bare(n: int) -> None:
            async with engine.begin() as connection:
                values = {**row, "at": datetime.now(UTC), "report_id": f"case-{n}"}
                await connection.execute(insert(bare_audit).values(**values))

        async def chained(n: int) -> None:
            async with sessions() as session, session.begin():
                session.add(AuditEntry(at=datetime.now(UTC), report_id=f"case-{n}", **row))

        rates: dict[str, list[float]] = {"bare insert (baseline)": [], "chained entry": []}
        try:
            for _ in range(rounds):
                rates["bare insert (baseline)"].append(await _rate(bare, entries, concurrency))
                rates["chained entry"].append(await _rate(chained, entries, concurrency))
            async with sessions() as session:
                started = time.perf_counter()
                result = await verify(session)
                walk_s = time.perf_counter() - started
        finally:
            await engine.dispose()
    assert result.broken is None, result.broken
    print(f"PostgreSQL, {entries} appends per round, {concurrency} at a time, {rounds} rounds")
    for name, values in rates.items():
        print(f"{name:<24} {statistics.median(values):8.1f} appends/s (median round)")
    print(
        f"verify: {result.verified} entries in {walk_s:.2f} s "
        f"({result.verified / walk_s:,.0f} entries/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.entries, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
