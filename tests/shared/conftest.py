"""What tests of the shared tables use: the services' components on each database, at a fixed
moment."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.components import Components, build_components
from services.database import upgrade
from services.testbed.production import fresh_database
from services.testbed.stack import FakeClock, embedded_settings
from shared.logging import configure_logging

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def components(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Components]:
    """The relay's, engine's and dispatcher's components on a fresh, migrated database, their
    clock stopped at ``NOW``."""
    if request.param == "sqlite":
        settings = embedded_settings(tmp_path)
    else:
        url = await fresh_database(request.getfixturevalue("postgres_url"))
        settings = embedded_settings(tmp_path, database_url=url, data_key="x" * 43 + "=")
    await asyncio.to_thread(upgrade, settings.database_url)
    built = build_components(settings, ("relay", "alert-engine", "dispatcher"), FakeClock(NOW))
    try:
        yield built
    finally:
        await built.engine.dispose()


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the process's logging writes (JSON lines), for the test's duration."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("INFO", as_json=True, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
