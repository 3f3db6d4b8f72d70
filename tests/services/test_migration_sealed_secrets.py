"""Migration 0005 on a deployment with partners from before: their tokens and secrets get
sealed with the key passed in; without a key it stops and says why; with no partners it
needs none. It also goes back down (opening them again)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from services.database import alembic_config, upgrade
from services.testbed.production import fresh_database
from shared.db import create_engine
from shared.sealing import Sealer

SECRET = "whsec_c2VjcmV0LWZyb20tYmVmb3JlLXNlYWxpbmctMTIzNDU2Nzg5MA=="
TOKEN = "partner-token-from-before"


def _revision_before_sealing(url: str) -> str:
    """The revision just before the one that adds sealing (ids may be renumbered)."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    sealing = next(s for s in scripts.walk_revisions() if "sealed" in (s.doc or ""))
    assert isinstance(sealing.down_revision, str)
    return sealing.down_revision


async def _partner_columns(url: str) -> tuple[str, str, str | None]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT verify_token, secret, previous_secret FROM partners")
                )
            ).one()
    finally:
        await engine.dispose()
    return row[0], row[1], row[2]


async def _round_trip(url: str) -> None:
    before = _revision_before_sealing(url)
    await asyncio.to_thread(command.upgrade, alembic_config(url), before)
    # No partners yet: no key needed.
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), before)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO partners (id, name, url, languages, status, verify_token, "
                    "secret, created_at) VALUES ('p1', 'Metabook', 'https://example.org/hook', "
                    "'fr', 'active', :token, :secret, :now)"
                ),
                {"token": TOKEN, "secret": SECRET, "now": datetime.now(UTC)},
            )
    finally:
        await engine.dispose()

    with pytest.raises(RuntimeError, match=r"1 partner.*set TIFLI_DATA_KEY"):
        await asyncio.to_thread(upgrade, url)
    assert await _partner_columns(url) == (TOKEN, SECRET, None)  # nothing half-done

    key = Sealer.new_key()
    await asyncio.to_thread(upgrade, url, key)
    token, secret, previous = await _partner_columns(url)
    assert TOKEN not in token and secret != SECRET and previous is None
    assert Sealer(key).unseal_text(token) == TOKEN
    assert Sealer(key).unseal_text(secret) == SECRET

    await asyncio.to_thread(command.downgrade, alembic_config(url, key), before)
    assert await _partner_columns(url) == (TOKEN, SECRET, None)


async def test_partner_secrets_get_sealed_on_sqlite(tmp_path: Path) -> None:
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
async def test_partner_secrets_get_sealed_on_postgres(postgres_url: str) -> None:
    await _round_trip(await fresh_database(postgres_url))
