"""A migrated database on both engines, and rows of the dispatcher's tables to put in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatcher.models import Delivery, Partner
from services.testbed.production import fresh_database, migrated_sessions

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}"
    else:
        url = await fresh_database(request.getfixturevalue("postgres_url"))
    async with migrated_sessions(url) as sessions:
        yield sessions


def partner(partner_id: str) -> Partner:
    return Partner(
        id=partner_id,
        name=partner_id,
        url="https://partner.example/hook",
        languages="en",
        status="active",
        verify_token="sealed",
        secret="sealed",
        created_at=NOW,
    )


def delivery(
    partner_id: str,
    alert_id: str,
    sequence: int,
    status: str,
    event_type: str = "alert.updated",
    *,
    created_at: datetime = NOW,
) -> Delivery:
    key = f"{partner_id}-{alert_id}-{sequence}"
    return Delivery(
        id=key,
        webhook_id=f"msg_{key}",
        partner_id=partner_id,
        alert_id=alert_id,
        sequence=sequence,
        event_type=event_type,
        payload="{}",
        status=status,
        attempts=0,
        next_attempt_at=NOW,
        deadline=NOW + timedelta(hours=1),
        created_at=created_at,
    )
