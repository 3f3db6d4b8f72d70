"""Retention on PostgreSQL: one sweep erasing 10,000 ended cases (each with a sighting,
beside as many open cases that stay), next to a bare UPDATE of the same rows in the same run.

    .venv/bin/python -m bench.retention --cases 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from intake_api.retention import RetentionTimer
from intake_api.sealing import split_restricted
from services.database import upgrade
from services.testbed.backing_servers import postgres_server
from services.testbed.production import fresh_database
from services.testbed.sample_report import report_body
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.sealing import Sealer

RETENTION = timedelta(days=7)

# :tag-i ids; ended cases were resolved long ago, open ones are still submitted.
SEED = """
INSERT INTO reports (id, status, message_status, created_at, updated_at, submitted_by_key,
  status_reason, public_data, sealed_data)
SELECT :tag || i, :status, 'Actual', :t, :t, 'k', :sealed, :public, :sealed
FROM generate_series(1, :n) AS i;
INSERT INTO sightings (id, report_id, lat, lon, seen_at, description, trusted, created_at,
  submitted_by_key)
SELECT :tag || 's' || i, :tag || i, 34.0, -6.8, :t, 'Seen with an adult man', true, :t, 'k'
FROM generate_series(1, :n) AS i;
"""
# The baseline: the same rows written once, set-based, with nothing computed per row.
BARE_UPDATE = """
UPDATE reports SET sealed_data = '', status_reason = NULL, erased_at = :now
WHERE erased_at IS NULL AND status = 'resolved' AND updated_at <= :before
"""


async def main(cases: int) -> None:
    public, restricted = split_restricted(report_body(notes="Father has a custody dispute"))
    sealed = Sealer(Sealer.new_key()).seal(restricted)
    with postgres_server() as server:
        url = await fresh_database(server.url)
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            for tag, status, moment in (
                ("ended-", "resolved", now - 2 * RETENTION),
                ("open-", "submitted", now - 2 * RETENTION),
            ):
                for statement in filter(str.strip, SEED.split(";")):
                    await connection.execute(
                        text(statement),
                        {
                            "tag": tag,
                            "status": status,
                            "t": moment,
                            "n": cases,
                            "sealed": sealed,
                            "public": json.dumps(public),
                        },
                    )
            await connection.execute(text("ANALYZE"))

        # Baseline first, rolled back, so the sweep finds the same rows still due.
        async with engine.connect() as connection:
            transaction = await connection.begin()
            started = time.perf_counter()
            result = await connection.execute(
                text(BARE_UPDATE), {"now": now, "before": now - RETENTION}
            )
            bare_s = time.perf_counter() - started
            await transaction.rollback()
        bare_rows = result.rowcount

        timer = RetentionTimer(
            session_factory(engine), SystemClock(), keep=RETENTION, interval_s=3600
        )
        started = time.perf_counter()
        erased = await timer.erase_due()
        sweep_s = time.perf_counter() - started
        async with engine.connect() as connection:
            left = await connection.scalar(
                text("SELECT count(*) FROM reports WHERE sealed_data <> ''")
            )
        await engine.dispose()
    assert erased == cases == bare_rows and left == cases, (erased, bare_rows, left)
    print(f"ended cases erased: {erased:,} (and {left:,} open cases left as they were)")
    print(
        f"one retention sweep: {sweep_s * 1000:.0f} ms "
        f"({sweep_s / erased * 1e6:.0f} µs per case; batches of 500, audited, sightings too)"
    )
    print(f"baseline, a bare UPDATE of the same rows: {bare_s * 1000:.0f} ms")
    print(f"ratio: {sweep_s / bare_s:.1f}x the bare UPDATE")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().cases))
