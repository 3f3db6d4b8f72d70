"""Alembic environment: one migration history for every service's tables (each service owns
its tables; ``services`` is the one place that knows them all)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from services.schema import metadata
from shared.db import create_engine

config = context.config

# Held for the migration's transaction: upgrades started at once (every process of a
# deployment migrating at start-up) take turns, and the later ones find nothing left to do.
# Two at once created the same tables, and all but one failed on PostgreSQL's catalog.
# Not the relay's keys (shared.relay_leadership): the active relay holds its lock for good,
# and an upgrade run beside it must not wait for it.
MIGRATION_LOCK = 0x7469666D6967  # "tifmig"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
