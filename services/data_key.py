"""Where the data key comes from: settings, or the embedded mode's key file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from services.private_files import write_private
from services.refusals import StartRefused
from shared.sealing import Sealer
from shared.settings import Settings


def data_key(settings: Settings) -> str:
    """The data key(s) sealing restricted report fields and partner secrets: from settings, or
    — embedded mode only — a key file kept beside the SQLite database, created on first use."""
    if settings.data_key:
        return settings.data_key
    if not settings.is_sqlite:
        raise StartRefused("TIFLI_DATA_KEY is required with a server database")
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise StartRefused("the embedded mode needs a SQLite file (or TIFLI_DATA_KEY)")
    key_file = Path(database + ".key")
    if not key_file.exists():
        write_private(key_file, Sealer.new_key().encode())
    return key_file.read_text().strip()


def migration_key(settings: Settings) -> str | None:
    """The key the migrations get: a server database without TIFLI_DATA_KEY gets none, so
    that a migration needing it (one sealing existing rows) can say so, and one on empty
    tables goes through."""
    if not settings.data_key and not settings.is_sqlite:
        return None
    return data_key(settings)
