"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from services.database import alembic_config, upgrade
from services.schema import metadata
from services.testbed.production import fresh_database, migrate, migrated_database
from shared.db import create_engine
from shared.sealing import Sealer


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def _schema_drift(database_url: str) -> list[Any]:
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_differences)
    finally:
        await engine.dispose()


async def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    assert await _schema_drift(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.postgres
async def test_postgres_schema_matches_the_models(postgres_url: str) -> None:
    assert await _schema_drift(await fresh_database(postgres_url)) == []


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _as_migrated(url: str) -> dict[str, list[Any]]:
    """Asserts ``url`` is at the migrations' head with the models' schema; returns every
    table's rows (the migrations write some: the audit chain's genesis)."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_revision) == head
            assert await connection.run_sync(_differences) == []
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            return {
                table: sorted(
                    map(tuple, await connection.execute(text(f'SELECT * FROM "{table}"')))
                )
                for table in tables
            }
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_production_stacks_start_on_migrated_databases_of_their_own(
    postgres_url: str,
) -> None:
    """What each production-mode test starts on (services.testbed.production copies one
    database migrated once): what ``tifli db upgrade`` makes of an empty database, and
    nothing an earlier test did in its own."""
    env = {**os.environ, "TIFLI_DATA_KEY": Sealer.new_key()}
    upgraded = await fresh_database(postgres_url)
    await migrate({**env, "TIFLI_DATABASE_URL": upgraded})
    made_by_the_migrations = await _as_migrated(upgraded)
    first = await migrated_database(postgres_url, env)
    assert await _as_migrated(first) == made_by_the_migrations
    engine = create_engine(first)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE left_by_a_test (n integer)"))
            await connection.execute(text("INSERT INTO left_by_a_test VALUES (1)"))
            await connection.execute(text("UPDATE audit_chain_head SET last_seq = 7"))
    finally:
        await engine.dispose()
    second = await migrated_database(postgres_url, {**env, "TIFLI_DATA_KEY": Sealer.new_key()})
    assert second != first
    assert await _as_migrated(second) == made_by_the_migrations
