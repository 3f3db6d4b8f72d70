"""What an operator meets starting the production mode with a setting wrong: a service that
would lose events refuses to start, in one line, instead of running "ready" on the wrong
database or with the wrong data key (alerts and Cancels were lost that way: one worker on a
file of its own, one on an empty database it had just migrated, one that could not open the
partners' secrets and dead-lettered every alert and Cancel)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from prometheus_client import REGISTRY
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from dispatcher.models import Partner
from services.cli.database_target import prepare_service
from services.database import alembic_config
from services.refusals import StartRefused
from services.testbed.backing_servers import PostgresServer
from services.testbed.loopback import free_port
from services.testbed.production import fresh_database, migrated_sessions
from shared.db import create_engine
from shared.relay_leadership import PostgresLeadership
from shared.sealing import Sealer
from shared.settings import Settings
from tests.services.cli_runner import tifli

SILENT_BROKER = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}  # never reached: refused before
NO_BROKER = {"KAFKA_BOOTSTRAP_SERVERS": "", "TIFLI_KAFKA_BOOTSTRAP_SERVERS": ""}
# Where partners reach the API: a dispatcher of its own refuses to start without it.
PUBLIC_ADDRESS = {"TIFLI_PUBLIC_BASE_URL": "https://alerts.example.org"}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if not line.startswith("tifli: database ")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


async def revision_of(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            return str(revision) if revision is not None else None
    finally:
        await engine.dispose()


async def tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()


async def test_a_production_service_refuses_a_database_file_of_its_own(tmp_path: Path) -> None:
    """No DATABASE_URL: the default ./tifli.db, which only the embedded mode may use."""
    database = tmp_path / "tifli.db"
    for args, env in ((("run", "dispatcher"), SILENT_BROKER), (("run",), SILENT_BROKER)):
        done = await tifli(f"sqlite+aiosqlite:///{database}", *args, TIFLI_DATA_KEY="", **env)
        assert done.returncode == 2
        assert "DATABASE_URL=postgresql+asyncpg://" in one_line(done.stderr)
    done = await tifli(f"sqlite+aiosqlite:///{database}", "run", "alert-engine")  # no Kafka
    assert done.returncode == 2 and "production mode" in one_line(done.stderr)
    assert not database.exists()


@pytest.mark.parametrize("migrate", [True, False])
async def test_a_service_refuses_a_database_server_without_a_schema(
    postgres: PostgresServer, migrate: bool
) -> None:
    """A mistyped database name that exists: never given a schema by a service."""
    empty = await fresh_database(postgres.url)
    flags = () if migrate else ("--no-migrate",)
    done = await tifli(
        empty,
        "run",
        "dispatcher",
        *flags,
        TIFLI_DATA_KEY=Sealer.new_key(),
        **SILENT_BROKER,
        **PUBLIC_ADDRESS,
    )
    assert done.returncode == 2
    assert "has no Tifli schema: run 'tifli db upgrade'" in one_line(done.stderr)
    assert await tables(empty) == []


async def test_a_dispatcher_of_its_own_refuses_to_guess_the_apis_address(
    postgres: PostgresServer,
) -> None:
    """The cap_url every partner is sent is built from TIFLI_PUBLIC_BASE_URL: unset, a
    dispatcher of its own would write its own host and port, where no API listens. Said at
    once, naming the variable, before the database is even asked."""
    empty = await fresh_database(postgres.url)
    for address in ({}, {"TIFLI_PUBLIC_BASE_URL": ""}):
        done = await tifli(
            empty, "run", "dispatcher", TIFLI_DATA_KEY=Sealer.new_key(), **SILENT_BROKER, **address
        )
        assert done.returncode == 2
        assert "set TIFLI_PUBLIC_BASE_URL" in one_line(done.stderr)
    assert await tables(empty) == []


@pytest.mark.parametrize("role", ["relay", "alert-engine", "dispatcher"])
async def test_a_worker_on_the_database_server_refuses_to_run_without_kafka(
    postgres: PostgresServer, role: str
) -> None:
    """KAFKA_BOOTSTRAP_SERVERS forgotten: the worker got a bus in its own memory, and a relay
    marked every event published as it handed it there, where no other process reads: an
    approval never became an alert, and readiness and ``events unfinished`` said all was
    well. Said at once, naming the variable, before the database is even asked."""
    empty = await fresh_database(postgres.url)
    done = await tifli(
        empty, "run", role, TIFLI_DATA_KEY=Sealer.new_key(), **NO_BROKER, **PUBLIC_ADDRESS
    )
    assert done.returncode == 2
    assert "set KAFKA_BOOTSTRAP_SERVERS=" in one_line(done.stderr)
    assert await tables(empty) == []


@pytest.mark.kafka
async def test_a_worker_refuses_more_replicas_than_the_cluster_has_brokers(
    postgres: PostgresServer, kafka_bootstrap: str
) -> None:
    """The session's cluster has one broker: topics of three replicas cannot be made. It was
    a traceback from the service's start-up (exit 3), not a line naming the setting."""
    database_url = await fresh_database(postgres.url)
    async with migrated_sessions(database_url):
        pass
    done = await tifli(
        database_url,
        "run",
        "relay",
        TIFLI_DATA_KEY=Sealer.new_key(),
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        TIFLI_TOPIC_PREFIX=f"replicas-{uuid.uuid4().hex[:8]}",
        TIFLI_KAFKA_REPLICATION_FACTOR="3",
    )
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert "fewer brokers than TIFLI_KAFKA_REPLICATION_FACTOR (3)" in line, line


async def test_the_embedded_mode_without_migrations_refuses_a_file_without_a_schema(
    tmp_path: Path,
) -> None:
    """--no-migrate on a SQLite file with no schema (an empty file, or none yet): a line, not
    a traceback from the first query, and no schema made behind the operator's back."""
    empty = tmp_path / "empty.db"
    empty.touch()
    missing = tmp_path / "missing.db"
    for database in (empty, missing):
        done = await tifli(f"sqlite+aiosqlite:///{database}", "run", "--no-migrate")
        assert done.returncode == 2
        assert "has no Tifli schema, and --no-migrate" in one_line(done.stderr)
    assert await tables(f"sqlite+aiosqlite:///{empty}") == []
    assert not missing.exists()


async def test_a_service_refuses_a_data_key_that_opens_nothing_sealed(
    postgres: PostgresServer,
) -> None:
    database_url = await fresh_database(postgres.url)
    right_key = Sealer.new_key()
    right = Sealer(right_key)
    async with (
        migrated_sessions(database_url) as sessions,
        sessions() as session,
        session.begin(),
    ):
        session.add(
            Partner(
                id=str(uuid.uuid4()),
                name="Metabook",
                url="https://hooks.example.org/tifli",
                languages="ar fr",
                status="active",
                verify_token=right.seal_text("verify-token"),
                secret=right.seal_text("whsec_secret"),
                created_at=datetime.now(UTC),
            )
        )
    wrong = await tifli(
        database_url,
        "run",
        "dispatcher",
        TIFLI_DATA_KEY=Sealer.new_key(),
        **SILENT_BROKER,
        **PUBLIC_ADDRESS,
    )
    assert wrong.returncode == 2
    assert "TIFLI_DATA_KEY opens none of the 1 values of partners." in one_line(wrong.stderr)
    # During a rotation every key in use is listed, newest first: the old values still open.
    rotating = Settings(database_url=database_url, data_key=f"{Sealer.new_key()},{right_key}")
    await asyncio.to_thread(prepare_service, rotating, migrate_schema=False)
    alone = Settings(database_url=database_url, data_key=Sealer.new_key())
    with pytest.raises(StartRefused):
        await asyncio.to_thread(prepare_service, alone, migrate_schema=False)


async def test_db_upgrade_says_in_one_line_what_is_wrong(postgres: PostgresServer) -> None:
    missing = postgres.url.rsplit("/", 1)[0] + f"/nosuch{uuid.uuid4().hex[:8]}"
    done = await tifli(missing, "db", "upgrade", TIFLI_DATA_KEY=Sealer.new_key())
    assert done.returncode == 2 and "does not exist" in one_line(done.stderr)
    # A service, and any other command on the database, say it alike (they gave a traceback).
    for args in (("run", "dispatcher"), ("keys", "list")):
        env = {**SILENT_BROKER, **PUBLIC_ADDRESS} if args[0] == "run" else {}
        done = await tifli(missing, *args, TIFLI_DATA_KEY=Sealer.new_key(), **env)
        assert done.returncode == 2, done.stderr
        assert "does not exist: create it first" in one_line(done.stderr)
    silent = f"postgresql+asyncpg://tifli@127.0.0.1:{free_port()}/tifli"
    done = await tifli(silent, "db", "upgrade", TIFLI_DATA_KEY=Sealer.new_key())
    assert done.returncode == 3 and "does not answer" in one_line(done.stderr)


async def test_a_login_the_server_refuses_is_said_in_one_line(postgres: PostgresServer) -> None:
    """An unknown role: every command, and a service, said it in a hundred lines of chained
    tracebacks (exit 1); waiting will not make the server accept it."""
    role = f"nosuch{uuid.uuid4().hex[:8]}"
    refused = make_url(postgres.url).set(username=role).render_as_string(hide_password=False)
    commands: list[tuple[str, ...]] = [("db", "upgrade"), ("keys", "list"), ("run", "dispatcher")]
    for args in commands:
        env = {**SILENT_BROKER, **PUBLIC_ADDRESS} if args[0] == "run" else {}
        done = await tifli(refused, *args, TIFLI_DATA_KEY=Sealer.new_key(), **env)
        assert done.returncode == 2, done.stderr
        line = one_line(done.stderr)
        assert "refused the login" in line and role in line, line


async def test_a_file_that_is_not_a_database_is_said_in_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "tifli.db"
    junk.write_text("not a database\n")
    for args in (("db", "upgrade"), ("keys", "list"), ("run",)):
        done = await tifli(f"sqlite+aiosqlite:///{junk}", *args)
        assert done.returncode == 2, done.stderr
        assert "is not a SQLite database" in one_line(done.stderr)
    assert junk.read_text() == "not a database\n"


async def test_a_schema_newer_than_this_release_is_said_in_one_line(tmp_path: Path) -> None:
    """A database a newer release migrated (this one rolled back): its revision is unknown
    here, and a command said so in a traceback."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}"
    assert (await tifli(database_url, "db", "upgrade")).returncode == 0
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d0099'"))
    finally:
        await engine.dispose()
    for args in (("db", "upgrade"), ("keys", "list"), ("run",)):
        done = await tifli(database_url, *args)
        assert done.returncode == 2, done.stderr
        assert "at a revision this tifli does not know" in one_line(done.stderr)


async def test_a_rollback_takes_the_schema_back_to_the_older_releases_revision(
    tmp_path: Path,
) -> None:
    """Going back to an older release: that release refuses the newer schema (above), and
    nothing took the schema back to its revision but Alembic called by hand. ``tifli db
    downgrade`` does, to the revision ``db upgrade`` says it found; a revision this release
    does not have is refused in a line, the schema untouched."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}"
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    first = await tifli(database_url, "db", "upgrade")
    assert first.returncode == 0 and f"schema revision none -> {head}" in first.stderr
    assert "early_renewals" in await tables(database_url)  # migration 0012's
    done = await tifli(database_url, "db", "downgrade", "0010")
    assert done.returncode == 0, done.stderr
    assert f"schema revision {head} -> 0010" in done.stderr
    assert await revision_of(database_url) == "0010"
    assert "early_renewals" not in await tables(database_url)
    refused = await tifli(database_url, "db", "downgrade", "0099")
    assert refused.returncode == 2
    assert "'0099' is no schema revision of this release" in one_line(refused.stderr)
    assert await revision_of(database_url) == "0010"
    again = await tifli(database_url, "db", "upgrade")
    assert again.returncode == 0 and f"schema revision 0010 -> {head}" in again.stderr


async def test_upgrades_started_at_once_take_turns(postgres: PostgresServer) -> None:
    """Every process of a deployment may migrate at start-up: four at once on a new database
    all succeed (three failed on PostgreSQL's catalog, creating the same tables)."""
    database_url = await fresh_database(postgres.url)
    key = Sealer.new_key()
    done = await asyncio.gather(
        *(tifli(database_url, "db", "upgrade", TIFLI_DATA_KEY=key) for _ in range(4))
    )
    assert [d.returncode for d in done] == [0, 0, 0, 0], [d.stderr[-500:] for d in done]
    assert "alembic_version" in await tables(database_url)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TIFLI_OPS_PORT", "abc", "TIFLI_OPS_PORT: Input should be a valid integer"),
        ("TIFLI_LOG_LEVEL", "LOUD", "TIFLI_LOG_LEVEL: give DEBUG, INFO"),
        ("TIFLI_WEBHOOK_RETRY_SCHEDULE_S", "0,5,30", "TIFLI_WEBHOOK_RETRY_SCHEDULE_S: not a"),
        ("TIFLI_DATABASE_URL", "db.internal/tifli", "TIFLI_DATABASE_URL (or DATABASE_URL): not"),
        ("TIFLI_ALERT_TIMEZONE", "Africa/Casablanka", "TIFLI_ALERT_TIMEZONE: not a time zone"),
    ],
)
async def test_a_wrong_setting_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    done = await tifli(
        f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}", "keys", "list", **{variable: value}
    )
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith(f"tifli: {said}"), line


async def test_a_signing_key_given_without_its_armour_is_not_printed() -> None:
    from alert_engine.cap_signature import development_pair

    key_pem, certificate_pem = development_pair()
    body = "\n".join(key_pem.decode().strip().splitlines()[1:-1])
    silent = f"postgresql+asyncpg://tifli@127.0.0.1:{free_port()}/tifli"
    done = await tifli(
        silent,
        "run",
        "intake-api",
        "--no-migrate",
        TIFLI_DATA_KEY=Sealer.new_key(),
        TIFLI_CAP_SIGNING_KEY=body,
        TIFLI_CAP_SIGNING_CERTIFICATE=certificate_pem.decode(),
    )
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "TIFLI_CAP_SIGNING_KEY: neither PEM text nor a readable file" in line
    assert body.splitlines()[1] not in done.stderr and body[:40] not in done.stderr


async def test_an_upgrade_beside_the_active_relay_does_not_wait_for_it(
    postgres: PostgresServer,
) -> None:
    """Upgrades take turns on a lock of their own: the active relay holds its lock for as
    long as it runs, and an upgrade run beside it (the documented way) must go through."""
    database_url = await fresh_database(postgres.url)
    key = Sealer.new_key()
    assert (await tifli(database_url, "db", "upgrade", TIFLI_DATA_KEY=key)).returncode == 0
    relay = PostgresLeadership(database_url, lambda: None)
    try:
        assert await relay.may_publish()
        assert REGISTRY.get_sample_value("tifli_relay_active") == 1
        again = await tifli(database_url, "db", "upgrade", TIFLI_DATA_KEY=key)
        assert again.returncode == 0, again.stderr
    finally:
        await relay.close()
    assert REGISTRY.get_sample_value("tifli_relay_active") == 0
