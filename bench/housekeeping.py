"""Housekeeping on PostgreSQL: one pruning pass over 100,000 rows to delete in each table
(beside as many to keep), next to a full scan of the same tables in the same run.

    .venv/bin/python -m bench.housekeeping --rows 100000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.components import build_components, housekeeping
from services.database import upgrade
from services.testbed.backing_servers import postgres_server
from services.testbed.production import fresh_database
from shared.settings import Settings

TABLES = ("outbox", "processed_events", "delivery_attempts")

# Half the rows are past every retention, half within it; attempts belong to delivered
# deliveries (one delivery per 10 attempts), so all the old ones may go.
SEED = """
INSERT INTO outbox (event_id, topic, key, event_type, payload, created_at, published_at, attempts)
SELECT gen_random_uuid()::text, 'reports', 'k', 'report.approved', '{}', :t, :t, 0
FROM generate_series(1, :n);
INSERT INTO processed_events (consumer_group, event_id, processed_at)
SELECT g, gen_random_uuid()::text, :t FROM generate_series(1, :n / 2),
  (VALUES ('alert-engine'), ('dispatcher')) AS groups(g);
INSERT INTO partners (id, name, url, languages, status, verify_token, secret, created_at)
VALUES (:partner, 'bench', 'https://p.example', 'fr', 'active', 't', 's', :t)
ON CONFLICT DO NOTHING;
INSERT INTO deliveries (id, webhook_id, partner_id, alert_id, sequence, event_type, payload,
  status, attempts, next_attempt_at, deadline, created_at)
SELECT :tag || i, :tag || i, :partner, :tag || i, 1, 'alert.issued', '{}', 'delivered', 10,
  :t, :t, :t FROM generate_series(1, :n / 10) AS i;
INSERT INTO delivery_attempts (delivery_id, at, latency_ms)
SELECT :tag || (1 + i % (:n / 10)), :t, 1.0 FROM generate_series(0, :n - 1) AS i;
"""


async def main(rows: int) -> None:
    with postgres_server() as server:
        url = await fresh_database(server.url)
        settings = Settings(database_url=url, data_key="x" * 43 + "=")
        await asyncio.to_thread(upgrade, url)
        components = build_components(settings, ("relay", "alert-engine", "dispatcher"))
        now = datetime.now(UTC)
        async with components.engine.begin() as connection:
            for tag, moment in (("old-", now - timedelta(days=365)), ("new-", now)):
                for statement in filter(str.strip, SEED.split(";")):
                    await connection.execute(
                        text(statement),
                        {"t": moment, "n": rows, "tag": tag, "partner": "bench-partner"},
                    )
            await connection.execute(text("ANALYZE"))
        async with components.engine.connect() as connection:
            started = time.perf_counter()
            for table in TABLES:
                await connection.execute(text(f"SELECT count(*) FROM {table}"))
            scan_s = time.perf_counter() - started
        prune_s, deleted = 0.0, {}
        for prune in housekeeping(settings, ("relay", "alert-engine", "dispatcher")):
            started = time.perf_counter()
            async with components.sessions() as session, session.begin():
                count = await prune.rows(session, now - prune.keep)
            took = time.perf_counter() - started
            prune_s += took
            deleted[prune.table] = f"{count:,} rows in {took * 1000:.0f} ms"
        await components.engine.dispose()
    print(f"rows to delete per table: {rows:,} (and as many kept)")
    for table, what in deleted.items():
        print(f"  {table}: {what}")
    print(f"one pruning pass: {prune_s * 1000:.0f} ms")
    print(f"baseline, a full scan of the three tables: {scan_s * 1000:.0f} ms")
    print(f"ratio: {prune_s / scan_s:.1f}x the scan")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().rows))
