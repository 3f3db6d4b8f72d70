"""Schema migrations, run by ``tifli db upgrade`` and at start-up of the embedded mode, and
undone by ``tifli db downgrade`` (going back to an older release)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, data_key: str | None = None) -> Config:
    """``data_key``: for migrations that seal existing rows (they read it from the config's
    attributes, never from the environment: settings are passed in)."""
    config = Config()
    config.attributes["data_key"] = data_key
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, data_key: str | None = None) -> None:
    """Blocking (Alembic runs its own event loop): call it from a thread inside async code."""
    command.upgrade(alembic_config(database_url, data_key), "head")


def downgrade(database_url: str, revision: str, data_key: str | None = None) -> None:
    """Blocking, like ``upgrade``. Each step back drops what its migration added: the rows
    of a table it created, the values of a column it added."""
    command.downgrade(alembic_config(database_url, data_key), revision)


def known_revisions() -> list[str]:
    """This release's revision ids, oldest first: the targets a downgrade may name."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]
