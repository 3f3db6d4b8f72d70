"""Which database a command writes to, and whether it is a Tifli database at all.

An operator who runs ``tifli keys create`` in the wrong folder (or with the wrong
``TIFLI_DATABASE_URL``) must learn it at once, not find a fresh SQLite file with one key in it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from services.database import upgrade
from shared.db import create_engine
from shared.settings import Settings


class DatabaseRefused(Exception):
    """This command will not use that database as it is; the message says why."""


class NoSchema(DatabaseRefused):
    pass


def shown_url(database_url: str) -> str:
    """The URL without its password: safe to print."""
    url = make_url(database_url)
    # URL.set() keeps a field given as None: build it again without the password.
    bare = URL.create(
        url.drivername, url.username, None, url.host, url.port, url.database, url.query
    )
    return bare.render_as_string(hide_password=False)


def _no_sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and (
        not url.database or url.database == ":memory:" or not Path(url.database).exists()
    )


async def _has_schema(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: inspect(sync).has_table("alembic_version")
            )
    finally:
        await engine.dispose()


def prepare(settings: Settings, *, init: bool) -> None:
    """Say which database this command uses; migrate it to the current schema. Without
    ``init``, a database with no Tifli schema is refused (``NoSchema``) and left untouched."""
    database_url = settings.database_url
    print(f"tifli: database {shown_url(database_url)}", file=sys.stderr)
    # Connecting to SQLite would create the file: look before touching it.
    missing = _no_sqlite_file(make_url(database_url)) or not asyncio.run(_has_schema(database_url))
    if not init and missing:
        raise NoSchema(
            f"{shown_url(database_url)} has no Tifli schema. Set TIFLI_DATABASE_URL to the "
            "service's database, or pass --init to create the schema there."
        )
    migrate(settings)


def migrate(settings: Settings) -> None:
    """The schema migrations, given the data key that a migration sealing rows needs."""
    from services.data_key import migration_key

    try:
        upgrade(settings.database_url, migration_key(settings))
    except RuntimeError as exc:  # a missing key, said plainly by the key's source
        raise DatabaseRefused(str(exc)) from exc


def run_on_database(
    settings: Settings, *, init: bool, work: Callable[[], Coroutine[Any, Any, int]]
) -> int:
    """What every database command does: prepare the database (a refusal is printed, exit
    code 2), then run ``work`` and return its exit code."""
    from shared.transient_errors import is_transient

    try:
        prepare(settings, init=init)
        return asyncio.run(work())
    except DatabaseRefused as exc:
        print(f"tifli: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not is_transient(exc):
            raise
        # An operator's command, not a service: say it in a line, and let them run it again.
        print(
            f"tifli: the database {shown_url(settings.database_url)} does not answer "
            f"({type(exc).__name__}); try again once it is up",
            file=sys.stderr,
        )
        return 3
