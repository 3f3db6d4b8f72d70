"""Migration 0004 on a deployment that had keys before units: they become national keys and
keep working; the migration also goes back down."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from services.database import alembic_config, upgrade
from services.testbed.production import fresh_database
from shared.auth import authenticate
from shared.db import create_engine, session_factory

SECRET = "s3cr3t-from-before-units"


async def _round_trip(url: str) -> None:
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "0003")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO api_keys (id, name, secret_hash, scopes, created_at) "
                    "VALUES ('0123456789ab', 'old', :hash, 'reports:read', :now)"
                ),
                {"hash": hashlib.sha256(SECRET.encode()).hexdigest(), "now": datetime.now(UTC)},
            )
        await asyncio.to_thread(upgrade, url)
        async with session_factory(engine)() as session:
            principal = await authenticate(session, f"tfk_0123456789ab_{SECRET}", datetime.now(UTC))
        assert principal is not None and principal.national
        assert principal.scopes == {"reports:read"}
    finally:
        await engine.dispose()
    await asyncio.to_thread(command.downgrade, config, "0003")
    await asyncio.to_thread(upgrade, url)


async def test_keys_from_before_units_become_national_on_sqlite(tmp_path: Path) -> None:
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
async def test_keys_from_before_units_become_national_on_postgres(postgres_url: str) -> None:
    await _round_trip(await fresh_database(postgres_url))
