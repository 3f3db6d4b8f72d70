"""``tifli run``, ``tifli db upgrade`` and ``downgrade``: the services, and the schema they
need."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    import uvicorn

    from services.components import Role
    from shared.settings import Settings

ROLES = ("intake-api", "relay", "alert-engine", "dispatcher")  # services.components.ALL_ROLES


def register(commands: Any) -> None:
    run = add_command(
        commands,
        "run",
        summary="run the services",
        example="""
        tifli run                 # the embedded mode: every service in one process, SQLite
        tifli run dispatcher      # one service of the production mode (Kafka + PostgreSQL)
        """,
    )
    run.add_argument(
        "role",
        nargs="?",
        default="all",
        choices=("all", *ROLES),
        help="all = the embedded mode: every service in one process",
    )
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="skip 'db upgrade' at start-up (production runs it as its own step)",
    )
    run.set_defaults(handler=handle_run)

    db = commands.add_parser("db", help="database", description="The database schema.")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = add_command(
        actions,
        "upgrade",
        summary="apply the schema migrations (creates the schema in an empty database)",
        example="TIFLI_DATABASE_URL=postgresql+asyncpg://tifli@db/tifli tifli db upgrade",
    )
    upgrade.set_defaults(handler=handle_db)
    downgrade = add_command(
        actions,
        "downgrade",
        summary="take the schema back to an older release's revision, to run that release "
        "again (stop every service first; what later migrations added is dropped)",
        example="""
        tifli db upgrade          # says the revision it found: note it
        tifli db downgrade 0010   # before starting the older release again
        """,
    )
    downgrade.add_argument("revision", help="the older release's newest revision, e.g. 0010")
    downgrade.set_defaults(handler=handle_db)


def handle_db(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: `tifli --help` stays quick

    from services.cli.database_target import (
        DatabaseRefused,
        migrate,
        rewind,
        schema_revision,
        shown_url,
    )
    from shared.transient_errors import is_transient

    shown = shown_url(settings.database_url)
    print(f"tifli: database {shown}", file=sys.stderr)
    try:
        # Said before and after: the revision found is the one to go back to, should the
        # release being installed have to be rolled back.
        before = asyncio.run(schema_revision(settings.database_url))
        if args.action == "downgrade":
            rewind(settings, args.revision)
        else:
            migrate(settings)
        after = asyncio.run(schema_revision(settings.database_url))
        print(f"tifli: schema revision {before or 'none'} -> {after}", file=sys.stderr)
    except DatabaseRefused as exc:
        print(f"tifli: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # An operator's step: said in a line (the cause sat mid-way through a traceback).
        if not is_transient(exc):
            raise
        print(
            f"tifli: the database {shown} does not answer ({type(exc).__name__}); try again "
            "once it is up",
            file=sys.stderr,
        )
        return 3
    return 0


def handle_run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: `tifli --help` stays quick

    from services.cli.database_target import DatabaseRefused, prepare_service, shown_url
    from services.cli.waiting import until_answering
    from services.cli.waiting_health import health_while_waiting
    from services.components import ALL_ROLES
    from shared.transient_errors import is_transient

    _refuse_a_private_database(settings, args.role)
    _refuse_a_private_bus(settings, args.role)
    _refuse_missing_keys(settings, args.role)
    _refuse_a_guessed_address(settings, args.role)
    # Nothing is in hand while it waits: a stop ends the wait, as a drain would, with 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # A database server may be down for a while; a SQLite file that cannot be opened will
    # not open later by itself (a wrong path): that fails at once, as it always did.
    on_a_server = not settings.is_sqlite
    # The port the process's health is served on, answered meanwhile (alive, not ready).
    api = args.role in ("all", "intake-api")
    health_port = settings.port if api else settings.ops_port
    database = f"the database {shown_url(settings.database_url)}"
    bootstrap = settings.kafka_bootstrap_servers
    with health_while_waiting(settings.host, health_port if on_a_server else None) as waiting:
        waiting(database)
        try:
            until_answering(
                lambda: prepare_service(settings, migrate_schema=not args.no_migrate),
                database,
                transient=lambda exc: on_a_server and is_transient(exc),
            )
        except DatabaseRefused as exc:
            print(f"tifli: {exc}", file=sys.stderr)
            return 2
        if bootstrap and args.role != "intake-api":  # the API takes reports without the broker
            waiting(f"the broker {bootstrap}")

            def broker_answers() -> None:
                try:
                    _broker_answers(bootstrap)
                except BrokerUnreachable as exc:
                    waiting(f"the broker {bootstrap} ({exc})")  # /readyz says why
                    raise
                waiting(f"the broker {bootstrap}")

            for step in (broker_answers, lambda: _make_topics(settings)):
                until_answering(
                    step,
                    f"the broker {bootstrap}",
                    transient=lambda exc: isinstance(exc, BrokerUnreachable),
                    reason=str,
                )
    if args.role == "all":
        asyncio.run(_serve_api(settings, ALL_ROLES))
    elif args.role == "intake-api":
        asyncio.run(_serve_api(settings, ("intake-api",)))
    else:
        asyncio.run(_run_worker(settings, args.role))
    return 0


def _refuse_a_private_database(settings: Settings, role: str) -> None:
    """One service of the production mode (or any with Kafka) on SQLite keeps a file of its
    own (the default ``./tifli.db`` where no database is set): the events the other services
    hand it are handled there, where nobody sees them, and alerts and Cancels are lost."""
    from services.refusals import StartRefused

    if settings.is_sqlite and (role != "all" or settings.kafka_bootstrap_servers):
        what = f"'tifli run {role}'" if role != "all" else "Kafka (KAFKA_BOOTSTRAP_SERVERS)"
        raise StartRefused(
            f"{what} is the production mode, which needs the deployment's PostgreSQL: set "
            "DATABASE_URL=postgresql+asyncpg://… (only 'tifli run' without Kafka runs on "
            "SQLite, every service in one process)"
        )


def _refuse_a_private_bus(settings: Settings, role: str) -> None:
    """A worker of its own on the deployment's database without Kafka gets an in-process bus
    that no other process reads: a relay marks every event published as it hands it to that
    bus, so approvals and Cancels vanish while its /readyz says ready (and no consumer group
    ever had them, so ``tifli events unfinished`` finds nothing). The API needs no bus: it only
    writes the outbox."""
    from services.refusals import StartRefused

    worker = role not in ("all", "intake-api")
    if worker and not settings.is_sqlite and not settings.kafka_bootstrap_servers:
        raise StartRefused(
            f"'tifli run {role}' is the production mode, which needs the deployment's Kafka: "
            "set KAFKA_BOOTSTRAP_SERVERS=host:port (without it, its events would go to a bus "
            "in its own memory, where no other process reads them)"
        )


def _refuse_missing_keys(settings: Settings, role: str) -> None:
    """The keys a service on a database server cannot start without, refused before it waits
    for the server: a setting to fix is said at once, not once the database answers. (The
    embedded mode makes its own, beside its SQLite file.)"""
    from services.cap_keys import cap_signer
    from services.data_key import data_key

    if settings.is_sqlite:
        return
    data_key(settings)
    if role in ("all", "intake-api"):
        cap_signer(settings)


def _refuse_a_guessed_address(settings: Settings, role: str) -> None:
    """A dispatcher of its own writes the ``cap_url`` every partner is sent from the API's
    address: without ``TIFLI_PUBLIC_BASE_URL`` it could only guess its own host and port,
    where no API listens, and every link would lead nowhere. (With the API in the same
    process, its own address is the API's.)"""
    from services.refusals import StartRefused

    if role == "dispatcher" and not settings.is_sqlite and not settings.public_base_url:
        raise StartRefused(
            "'tifli run dispatcher' writes the cap_url links partners fetch CAP documents "
            "from: set TIFLI_PUBLIC_BASE_URL to the API's address as partners reach it"
        )


class BrokerUnreachable(Exception):
    """No broker of the bootstrap list answered a metadata request; its text says why."""


def _broker_answers(bootstrap: str) -> None:
    import asyncio

    from shared.bus.bootstrap_hosts import not_resolving, unresolved_hosts
    from shared.bus.kafka import broker_reachable

    if asyncio.run(broker_reachable(bootstrap)):
        return
    # A mistyped host is a setting to fix, not an outage to wait out: said apart (and still
    # waited for, as a name may resolve a moment later).
    if missing := asyncio.run(unresolved_hosts(bootstrap)):
        raise BrokerUnreachable(f"{not_resolving(missing)}: check KAFKA_BOOTSTRAP_SERVERS")
    raise BrokerUnreachable("no broker of the list answers")


def _make_topics(settings: Settings) -> None:
    """The topics the workers share, created now if missing, so that a cluster that cannot
    hold them as the settings ask (more replicas than brokers) is said in a line before the
    service starts: it was a traceback from the service's start-up, exit 3."""
    import asyncio

    from aiokafka.errors import KafkaError

    from services.components import bus_topics
    from services.refusals import StartRefused
    from shared.bus.kafka import TopicsRefused, ensure_topics

    assert settings.kafka_bootstrap_servers is not None
    try:
        asyncio.run(
            ensure_topics(
                settings.kafka_bootstrap_servers,
                bus_topics(settings),
                partitions=settings.bus_partitions,
                replication_factor=settings.kafka_replication_factor,
                min_insync_replicas=settings.kafka_min_insync_replicas,
            )
        )
    except TopicsRefused as refused:
        raise StartRefused(str(refused)) from None
    except (KafkaError, OSError) as exc:
        raise BrokerUnreachable(f"creating the topics failed: {type(exc).__name__}") from exc


def server_config(app: object, settings: Settings, port: int) -> uvicorn.Config:
    """How uvicorn serves ``app`` on ``port``."""
    import uvicorn

    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.http_keep_alive_s,
        # The failed-authentication limit counts per client address: only a proxy named in
        # the settings may say what that address is (uvicorn alone believes any local one).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


async def _serve(app: object, settings: Settings, port: int, banner: str) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; uvicorn drains it (the lifespan stops the
    components, which finish the work in hand) before this returns."""
    import uvicorn

    class AnnouncedServer(uvicorn.Server):
        """Says the banner once it listens: "running" before that sent probes to a closed
        port, and stood beside the error of a port already taken."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                print(banner, flush=True)

    server = AnnouncedServer(server_config(app, settings, port))
    # uvicorn turns SIGINT/SIGTERM into a graceful shutdown, then re-raises the signal into
    # the handler that was there before it: make that one a no-op, so a clean stop exits 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    await server.serve()


async def _serve_api(settings: Settings, roles: tuple[Role, ...]) -> None:
    from services.api import create_app
    from services.components import build_components

    app = create_app(build_components(settings, roles))
    await _serve(app, settings, settings.port, f"Tifli is running: open {settings.base_url}/docs")


async def _run_worker(settings: Settings, role: Role) -> None:
    import asyncio

    from services.components import build_components

    components = build_components(settings, (role,))
    if settings.ops_port is not None:
        from services.ops_app import create_ops_app

        banner = f"tifli {role} running (health on {settings.host}:{settings.ops_port})"
        await _serve(create_ops_app(components), settings, settings.ops_port, banner)
        return
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await components.start()
    print(f"tifli {role} running", flush=True)
    await stopping.wait()
    await components.stop()  # finishes the work in hand and commits before exiting
