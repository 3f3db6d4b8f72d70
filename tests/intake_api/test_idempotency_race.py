"""Two submissions with one Idempotency-Key, racing on PostgreSQL: the second finds no record
(the first has not committed), inserts, waits on the first's lock, and must answer with the
first's report (or sighting) instead of failing when the first commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_api.models import Report, Sighting
from intake_api.schemas import ReportIn, ReportOut, SightingIn, SightingOut
from intake_api.service import ReportService
from services.testbed.production import fresh_database, migrated_sessions
from services.testbed.sample_report import report_body
from shared.auth import Principal
from shared.problems import Problem
from shared.sealing import Sealer
from tests.lock_waits import blocked_on_a_lock
from tests.waiting import eventually

POLICE = Principal("0123456789ab", "police", frozenset({"reports:submit"}))
SEALER = Sealer(Sealer.new_key())


@pytest.fixture
async def sessions(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with migrated_sessions(await fresh_database(postgres_url)) as sessions:
        yield sessions


async def _submit(session: AsyncSession, body: ReportIn, key: str) -> tuple[ReportOut, bool]:
    service = ReportService(session, SEALER, datetime.now(UTC))
    return await service.submit(POLICE, body, key)


async def _racing_submit(
    sessions: async_sessionmaker[AsyncSession], body: ReportIn, key: str
) -> tuple[ReportOut, bool]:
    async with sessions() as session, session.begin():
        return await _submit(session, body, key)


async def test_the_loser_of_a_race_answers_with_the_winners_report(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    body = ReportIn.model_validate(report_body())
    async with sessions() as first_session:
        async with first_session.begin():
            first, first_created = await _submit(first_session, body, "race-1")
            second_task = asyncio.create_task(_racing_submit(sessions, body, "race-1"))
            await eventually(lambda: blocked_on_a_lock(sessions), lambda n: n >= 1)
        # The first commits here; the second goes on.
        second, second_created = await second_task

    assert first_created and not second_created
    assert second.id == first.id
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_the_loser_with_another_body_is_a_conflict(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    body = ReportIn.model_validate(report_body())
    other = ReportIn.model_validate(report_body(circumstances="Another story entirely."))
    async with sessions() as first_session, first_session.begin():
        filed, _ = await _submit(first_session, body, "race-2")
        second_task = asyncio.create_task(_racing_submit(sessions, other, "race-2"))
        await eventually(lambda: blocked_on_a_lock(sessions), lambda n: n >= 1)
    with pytest.raises(Problem) as raised:
        await second_task
    assert raised.value.status == 409
    assert raised.value.errors == [
        {"field": "header.Idempotency-Key", "message": "already used with another body"}
    ]
    # The case the key filed is named: a client that lost the first answer finds it.
    assert raised.value.extensions == {"report_id": filed.id}


async def test_a_sighting_sent_twice_at_once_is_added_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The same for a sighting: the loser waits on the case's lock, and answers with the
    sighting the winner added instead of adding a second (a second Update to partners)."""
    async with sessions() as session, session.begin():
        case, _ = await _submit(session, ReportIn.model_validate(report_body()), "case")
    seen = SightingIn.model_validate(
        {"place_name": "Rabat", "at": datetime.now(UTC).isoformat(), "trusted": True}
    )
    async with sessions() as first_session:
        async with first_session.begin():
            service = ReportService(first_session, SEALER, datetime.now(UTC))
            first, first_added = await service.add_sighting(POLICE, case.id, seen, "seen-1")
            second_task = asyncio.create_task(_racing_sighting(sessions, case.id, seen, "seen-1"))
            await eventually(lambda: blocked_on_a_lock(sessions), lambda n: n >= 1)
        second, second_added = await second_task
    assert first_added and not second_added
    assert second.id == first.id
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Sighting)) == 1


async def _racing_sighting(
    sessions: async_sessionmaker[AsyncSession], report_id: str, body: SightingIn, key: str
) -> tuple[SightingOut, bool]:
    async with sessions() as session, session.begin():
        service = ReportService(session, SEALER, datetime.now(UTC))
        return await service.add_sighting(POLICE, report_id, body, key)
