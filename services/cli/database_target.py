"""Which database a command writes to, and whether it is a Tifli database at all.

An operator who runs ``tifli keys create`` in the wrong folder (or with the wrong
``TIFLI_DATABASE_URL``) must learn it at once, not find a fresh SQLite file with one key in it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic.util.exc import CommandError
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from services.database import downgrade, known_revisions, upgrade
from services.refusals import StartRefused
from shared.db import create_engine
from shared.settings import Settings
from shared.transient_errors import sqlstate_of

T = TypeVar("T")


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


def _refuse_a_missing_folder(database_url: str) -> None:
    """A SQLite file in a folder that does not exist cannot be created, nor will it appear
    by waiting: say so, rather than that it has no schema, or does not answer."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    if url.database.startswith("file:"):
        return  # SQLite's URI form: the path is SQLite's to read (and to say if it fails)
    folder = Path(url.database).parent
    if not folder.is_dir():
        raise StartRefused(
            f"{shown_url(database_url)}: the folder {folder} does not exist; create it, or "
            "set TIFLI_DATABASE_URL to a file in a folder that does"
        )


async def has_schema(database_url: str) -> bool:
    """Whether the database holds a Tifli schema; a database the server does not have is
    refused in a line (``DatabaseRefused``): waiting will not create it."""
    return await _looked_at(database_url, _has_version_table)


async def _has_version_table(connection: AsyncConnection) -> bool:
    return await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))


async def _looked_at(database_url: str, look: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """What ``look`` finds on a connection of its own, a database that cannot be reached
    refused in a line (``refusal_of``)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await look(connection)
    except Exception as exc:
        refused = refusal_of(exc, database_url)
        if refused is None:
            raise
        raise refused from None
    finally:
        await engine.dispose()


# The login refused: invalid_authorization_specification (an unknown role, no pg_hba.conf
# entry), invalid_password.
_LOGIN_REFUSED = ("28000", "28P01")
_UNKNOWN_REVISION = "Can't locate revision identified by"


def refusal_of(exc: BaseException, database_url: str) -> DatabaseRefused | None:
    """What an error connecting to or migrating the database means for the operator, in a
    line, where waiting or trying again cannot help; None for any other error (a server that
    does not answer yet is the caller's to wait for)."""
    shown = shown_url(database_url)
    state = sqlstate_of(exc)
    if state == "3D000":  # invalid_catalog_name
        return DatabaseRefused(
            f"the database {shown} does not exist: create it first, then run "
            "'tifli db upgrade' against it"
        )
    if state in _LOGIN_REFUSED:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[-1][:200]
        return DatabaseRefused(
            f"the database server refused the login to {shown} ({reason}): check the user "
            "and password in TIFLI_DATABASE_URL"
        )
    if _sqlite_error_code(exc) == sqlite3.SQLITE_NOTADB:
        return DatabaseRefused(
            f"{shown} is not a SQLite database: set TIFLI_DATABASE_URL to the service's "
            "database file"
        )
    if isinstance(exc, CommandError) and str(exc).startswith(_UNKNOWN_REVISION):
        return DatabaseRefused(
            f"the schema of {shown} is at a revision this tifli does not know (a newer "
            "release migrated it): run that release, or a newer one, against it"
        )
    return None


def _sqlite_error_code(exc: BaseException) -> int | None:
    """The SQLite result code behind ``exc`` (wrapped by SQLAlchemy), if it is SQLite's."""
    original = getattr(exc, "orig", exc)
    code = getattr(original, "sqlite_errorcode", None)
    return code if isinstance(code, int) else None


async def schema_revision(database_url: str) -> str | None:
    """The revision the database's schema is at (None: no Tifli schema); refused in a line
    like ``has_schema``."""
    return await _looked_at(database_url, _revision)


async def _revision(connection: AsyncConnection) -> str | None:
    if not await _has_version_table(connection):
        return None
    revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    return str(revision) if revision is not None else None


def prepare(settings: Settings, *, init: bool) -> None:
    """Say which database this command uses; migrate it to the current schema. Without
    ``init``, a database with no Tifli schema is refused (``NoSchema``) and left untouched."""
    database_url = settings.database_url
    print(f"tifli: database {shown_url(database_url)}", file=sys.stderr)
    _refuse_a_missing_folder(database_url)
    # Connecting to SQLite would create the file: look before touching it.
    missing = _no_sqlite_file(make_url(database_url)) or not asyncio.run(has_schema(database_url))
    if not init and missing:
        raise NoSchema(
            f"{shown_url(database_url)} has no Tifli schema. Set TIFLI_DATABASE_URL to the "
            "service's database, or pass --init to create the schema there."
        )
    migrate(settings)


def prepare_service(settings: Settings, *, migrate_schema: bool) -> None:
    """What a service checks of its database before it takes any work (``StartRefused``: it
    must not start). A database server without a Tifli schema is refused, not given one: a
    mistyped URL would otherwise become one process's own empty database, where the events
    the other services hand it are lost. (``tifli db upgrade`` creates a schema; the embedded
    mode's SQLite file gets one at its first start, unless ``--no-migrate`` forbids it.)
    Then the schema is brought up to date, if asked, and the data key must open what is
    sealed there."""
    url = make_url(settings.database_url)
    _refuse_a_missing_folder(settings.database_url)
    # Connecting to SQLite would create the file: a missing one has no schema.
    schema = not _no_sqlite_file(url) and asyncio.run(has_schema(settings.database_url))
    if not schema and not settings.is_sqlite:
        raise StartRefused(
            f"{shown_url(settings.database_url)} has no Tifli schema: run 'tifli db upgrade' "
            "against it first (a service never creates one on a database server)"
        )
    if not schema and not migrate_schema:
        raise StartRefused(
            f"{shown_url(settings.database_url)} has no Tifli schema, and --no-migrate keeps "
            "it that way: start without --no-migrate, or run 'tifli db upgrade' first"
        )
    if migrate_schema:
        migrate(settings)
    if not _no_sqlite_file(url):
        asyncio.run(_data_key_opens(settings))


_SAMPLE = 20  # sealed values tried per column: a wrong key opens none of them


async def _data_key_opens(settings: Settings) -> None:
    """Refuses a data key that opens none of the sealed values sampled from a column: a
    process with the wrong key would fail every event that needs one (an alert, its Cancel)
    until it dead-lettered them, and seal new values that the other processes cannot open."""
    from services.data_key import data_key
    from services.data_key_rotation import SEALED
    from shared.sealing import SealedValueError, Sealer

    sealer = Sealer(data_key(settings))
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            for sealed in SEALED:
                for name in sealed.columns:
                    column = sealed.table.c[name]
                    values = (
                        await connection.scalars(
                            select(column).where(column.is_not(None), column != "").limit(_SAMPLE)
                        )
                    ).all()
                    opened = 0
                    for value in values:
                        try:
                            sealer.unseal_text(value)
                            opened += 1
                        except SealedValueError:
                            pass
                    if values and not opened:
                        raise StartRefused(
                            f"TIFLI_DATA_KEY opens none of the {len(values)} values of "
                            f"{sealed.table.name}.{name} tried: it is not this database's key "
                            "(during a rotation, list every key in use, newest first)"
                        )
    finally:
        await engine.dispose()


def migrate(settings: Settings) -> None:
    """The schema migrations, given the data key that a migration sealing rows needs."""
    from services.data_key import migration_key

    try:
        upgrade(settings.database_url, migration_key(settings))
    except RuntimeError as exc:  # a missing key, said plainly by the key's source
        raise DatabaseRefused(str(exc)) from exc
    except Exception as exc:
        refused = refusal_of(exc, settings.database_url)
        if refused is None:
            raise
        raise refused from None


def rewind(settings: Settings, revision: str) -> None:
    """The schema taken back to ``revision``, an older release's, so that release runs on it
    again; given the data key that a migration unsealing rows needs."""
    from services.data_key import migration_key

    revisions = known_revisions()
    if revision not in revisions:
        raise DatabaseRefused(
            f"{revision!r} is no schema revision of this release: give one of "
            f"{', '.join(revisions)} (the older release's newest)"
        )
    try:
        downgrade(settings.database_url, revision, migration_key(settings))
    except RuntimeError as exc:  # a missing key, said plainly by the key's source
        raise DatabaseRefused(str(exc)) from exc
    except Exception as exc:
        refused = refusal_of(exc, settings.database_url)
        if refused is not None:
            raise refused from None
        if isinstance(exc, CommandError):  # a revision above the schema's: nothing to undo
            raise DatabaseRefused(f"cannot take the schema down to {revision}: {exc}") from None
        raise


def run_on_database(
    settings: Settings, *, init: bool, work: Callable[[], Coroutine[Any, Any, int]]
) -> int:
    """What every database command does: prepare the database (a refusal is printed, exit
    code 2), then run ``work`` and return its exit code. A sealed value the data key cannot
    open (a rotation's step missed: the command's key is not the database's) is said in a
    line, exit code 1, whichever command met it."""
    from shared.sealing import SealedValueError
    from shared.transient_errors import is_transient

    try:
        prepare(settings, init=init)
        return asyncio.run(work())
    except DatabaseRefused as exc:
        print(f"tifli: {exc}", file=sys.stderr)
        return 2
    except SealedValueError as exc:
        print(f"tifli: {exc}", file=sys.stderr)
        return 1
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
