"""The alert engine's timers with many active alerts, on the real PostgreSQL.

    .venv/bin/python -m bench.timers --alerts 10000

Seeds ``--alerts`` active alerts (a few dozen issued by the engine itself at places across
the gazetteer, last seen between 30 minutes and 30 hours ago, then copied row for row), makes
every one of them due, and times what one engine process does with them:

- one **widening pass**: every alert re-measured, an Update for those whose zone grew enough;
- one **expiry sweep**: every alert expired, a Cancel staged for each.

The baseline, in the same run on the same rows, is the floor of a timer pass: each alert
locked (``FOR UPDATE SKIP LOCKED``) and updated in a transaction of its own, with no zone work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alert_engine.models import Alert, AlertVersion
from alert_engine.service import AlertService, EngineConfig
from alert_engine.timers import AlertTimers
from services.components import engine_config
from services.testbed.backing_servers import postgres_server
from services.testbed.production import fresh_database, migrate
from services.testbed.stack import FakeClock
from shared.alert_contract import Point, PublicChild
from shared.db import create_engine, session_factory
from shared.events import ReportApprovedData
from shared.settings import Settings

PLACES = Path(__file__).resolve().parent.parent / "intake_api" / "data" / "morocco_places.json"
TEMPLATES = 40


async def seed(
    sessions: async_sessionmaker[AsyncSession], config: EngineConfig, now: datetime, count: int
) -> None:
    """``count`` more active alerts: up to ``TEMPLATES`` issued by the engine at places
    across the gazetteer, then copied row for row (the same work per alert as its template)."""
    salt = uuid.uuid4().hex  # copies made by another call never collide with these
    rng = random.Random(salt)
    templates = min(TEMPLATES, count)
    issued: list[str] = []
    for n, place in enumerate(rng.sample(json.loads(PLACES.read_text()), templates)):
        seen = now - timedelta(minutes=30 + n * 30 * 60 / templates * 1.5)
        approved = ReportApprovedData(
            report_id=str(uuid.uuid4()),
            alert_id=str(uuid.uuid4()),
            approved_at=now,
            message_status="Actual",
            child=PublicChild(given_name="Sara", age=8, sex="female", description="Short hair."),
            photo_urls=[],
            last_seen_point=Point(lat=place["lat"], lon=place["lon"]),
            last_seen_place=place["name"],
            last_seen_at=seen,
            travel_mode=rng.choice(["foot", "vehicle", "unknown"]),
            suspected_vehicle=None,
            companion=None,
            expires_at=now + timedelta(hours=72),
        )
        async with sessions() as session, session.begin():
            await AlertService(session, config, now).issue(approved)
        issued.append(approved.alert_id)
    copies = count // templates - 1
    if copies < 1:
        return
    async with sessions() as session, session.begin():
        for model, renamed, key in (
            (Alert, {"id": "a.id", "report_id": "a.report_id"}, "id"),
            (AlertVersion, {"alert_id": "a.alert_id", "identifier": "a.identifier"}, "alert_id"),
        ):
            table = model.__tablename__
            names = [c.name for c in model.__table__.columns]
            values = [
                f"md5({renamed[n]} || :salt || n)::uuid::text" if n in renamed else n for n in names
            ]
            await session.execute(
                text(
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"SELECT {', '.join(values)} FROM {table} a, generate_series(1, :copies) n "
                    f"WHERE a.{key} = ANY(:issued)"
                ),
                {"copies": copies, "salt": salt, "issued": issued},
            )


async def run_until_idle(timers: AlertTimers) -> int:
    handled = 0
    while handled_now := await timers.run_due():
        handled += handled_now
    return handled


async def bare_pass(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Lock and touch each alert in its own transaction: the floor under any timer pass."""
    async with sessions() as session:
        ids = (await session.scalars(select(Alert.id).where(Alert.state == "active"))).all()
    for alert_id in ids:
        async with sessions() as session, session.begin():
            alert = (
                await session.scalars(
                    select(Alert).where(Alert.id == alert_id).with_for_update(skip_locked=True)
                )
            ).one()
            alert.updated_at = now
    return len(ids)


async def count_outbox(sessions: async_sessionmaker[AsyncSession], event_type: str) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(text("outbox"))
                .where(text("event_type = :t").bindparams(t=event_type))
            )
            or 0
        )


async def run(count: int) -> None:
    with postgres_server() as server:
        database_url = await fresh_database(server.url)
        await migrate({**os.environ, "TIFLI_DATABASE_URL": database_url})
        settings = Settings(database_url=database_url)
        config = engine_config(settings)
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        clock = FakeClock(datetime.now(UTC))
        try:
            started = time.perf_counter()
            await seed(sessions, config, clock.now(), count)
            async with sessions() as session:
                active = await session.scalar(
                    select(func.count()).select_from(Alert).where(Alert.state == "active")
                )
            print(f"{active} active alerts seeded in {time.perf_counter() - started:.1f} s")

            timers = AlertTimers(sessions, config, clock, poll_interval_s=1.0)
            clock.advance(config.widen_interval)  # every alert's widening is due
            updates_before = await count_outbox(sessions, "alert.updated")
            started = time.perf_counter()
            widened = await run_until_idle(timers)
            widening_s = time.perf_counter() - started
            updates = await count_outbox(sessions, "alert.updated") - updates_before

            started = time.perf_counter()
            await bare_pass(sessions, clock.now())
            bare_s = time.perf_counter() - started

            async with sessions() as session, session.begin():
                await session.execute(
                    update(Alert).where(Alert.state == "active").values(expires=clock.now())
                )
            started = time.perf_counter()
            expired = await run_until_idle(timers)
            expiry_s = time.perf_counter() - started
        finally:
            await engine.dispose()

    interval_s = config.widen_interval.total_seconds()
    print(f"\ntimers with {count} active alerts (one engine process, PostgreSQL)")
    rows = [
        ("widening pass", widened, widening_s, f"{updates} Updates staged"),
        ("expiry sweep", expired, expiry_s, f"{expired} Cancels staged"),
        ("baseline: lock + update each alert", count, bare_s, "no zone work"),
    ]
    for label, handled, seconds, note in rows:
        per_ms = seconds / max(handled, 1) * 1000
        print(f"{label:<36} {handled:>6} alerts  {seconds:8.1f} s  {per_ms:6.2f} ms/alert  {note}")
    print(
        f"widening pass / widening interval ({interval_s / 60:.0f} min): "
        f"{widening_s / interval_s:.1%};  widening / baseline: {widening_s / bare_s:.1f}x;  "
        f"expiry / baseline: {expiry_s / bare_s:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(max(args.alerts, TEMPLATES)))


if __name__ == "__main__":
    main()
