"""What ``tifli data-key rotate`` and ``tifli reports erase`` do (their parsers are in
``services.cli.data``)."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_api import retention
from intake_api.keys import CLI_ACTOR
from intake_api.models import Report
from services.data_key import data_key
from services.data_key_rotation import rotate
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.entity_ids import canonical_id
from shared.sealing import Sealer
from shared.settings import Settings


async def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        if args.command == "data-key":
            # A value no key opens ends it: said by ``run_on_database``.
            counts = await rotate(sessions, Sealer(data_key(settings)))
            done = ", ".join(f"{table}: {n}" for table, n in counts.items())
            print(f"re-sealed with the newest data key ({done} values)")
            return 0
        # In capitals, as some police systems print ids, it is the same case (as in the API).
        return await _erase(sessions, canonical_id(args.report_id))
    finally:
        await engine.dispose()


async def _erase(sessions: async_sessionmaker[AsyncSession], report_id: str) -> int:
    now = SystemClock().now()
    async with sessions() as session, session.begin():
        query = select(Report).where(Report.id == report_id).with_for_update()
        report = (await session.scalars(query)).one_or_none()
        if report is None:
            print(f"tifli: no report {report_id}", file=sys.stderr)
            return 1
        if not retention.ended(report.status, report.expires_at, now):
            print(
                f"tifli: report {report_id} is still open: only an ended case can be erased",
                file=sys.stderr,
            )
            return 2
        if report.erased_at is not None:
            print(f"report {report_id} was erased at {report.erased_at:%Y-%m-%d %H:%M:%S} UTC")
            return 0
        await retention.erase(session, [(report.id, report.public_data)], CLI_ACTOR, now)
    print(f"report {report_id} erased")
    return 0
