"""An Idempotency-Key is remembered for TIFLI_IDEMPOTENCY_KEY_HOURS (48 h by default), then
pruned by the API process's housekeeping, a bounded batch at a time, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from intake_api.idempotency_records import PRUNE_BATCH
from intake_api.models import IdempotencyRecord
from intake_api.schemas import ReportIn
from intake_api.service import ReportService
from services.components import Components, build_components
from services.database import upgrade
from services.testbed.production import fresh_database
from services.testbed.sample_report import report_body
from services.testbed.stack import FakeClock, embedded_settings
from shared.auth import Principal

POLICE = Principal("0123456789ab", "police", frozenset({"reports:submit"}))
# Records of requests made long before: more than two batches' worth.
BACKLOG = 2 * PRUNE_BATCH + 1
BODY = ReportIn.model_validate(report_body())  # one body: each retry sends the same


@pytest.fixture(params=["sqlite", "postgresql"])
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Components]:
    """The API process's components on a fresh, migrated database, on a clock tests move."""
    if request.param == "sqlite":
        settings = embedded_settings(tmp_path, cap_unsigned=True)  # no CAP served here
    else:
        url = await fresh_database(request.getfixturevalue("postgres_url"))
        settings = embedded_settings(
            tmp_path, database_url=url, data_key="x" * 43 + "=", cap_unsigned=True
        )
    await asyncio.to_thread(upgrade, settings.database_url)
    built = build_components(settings, ("intake-api",), FakeClock(datetime.now(UTC)))
    try:
        yield built
    finally:
        await built.engine.dispose()


async def _submit(api: Components, key: str) -> tuple[str, bool]:
    """Files the sample report under ``key`` at the clock's time: its id, and whether it was
    filed now (False: the answer to an earlier try)."""
    async with api.sessions() as session, session.begin():
        service = ReportService(session, api.sealer, api.clock.now())
        answer, created = await service.submit(POLICE, BODY, key)
    return answer.id, created


async def _records(api: Components) -> int:
    async with api.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0)


async def test_a_key_is_remembered_for_its_window_then_pruned(api: Components) -> None:
    assert isinstance(api.clock, FakeClock) and api.housekeeper is not None
    first, _ = await _submit(api, "form-1")
    async with api.sessions() as session, session.begin():
        await session.execute(
            insert(IdempotencyRecord),
            [
                {
                    "key_id": POLICE.key_id,
                    "idempotency_key": f"old-{n}",
                    "request_hash": "0" * 64,
                    "report_id": f"report-{n}",
                    "created_at": api.clock.now() - timedelta(days=30),
                }
                for n in range(BACKLOG)
            ],
        )

    api.clock.advance(timedelta(hours=47))
    # The old ones go, in batches until none is left; the key used 47 h ago stays.
    assert await api.housekeeper.prune_once() == {"idempotency_records": BACKLOG}
    assert await _records(api) == 1
    assert await _submit(api, "form-1") == (first, False)  # a retry: the first answer

    api.clock.advance(timedelta(hours=2))
    assert await api.housekeeper.prune_once() == {"idempotency_records": 1}
    assert await _records(api) == 0
    # Past the window the key is new again: the same body under it files a case.
    again, created = await _submit(api, "form-1")
    assert created and again != first
