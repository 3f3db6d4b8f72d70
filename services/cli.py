"""``tifli``: run the services, manage keys and partners, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from services.components import ALL_ROLES, Role, build_components
from services.database import upgrade
from shared.auth import SCOPES, create_api_key, parse_scopes
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.logging import configure_logging
from shared.settings import Settings

COMMANDS = ("run", "keys", "db")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tifli", description="Missing-child alert pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the services")
    run.add_argument(
        "role",
        nargs="?",
        default="all",
        choices=("all", *ALL_ROLES),
        help="all = the embedded mode: every service in one process",
    )
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="skip 'db upgrade' at start-up (production runs it as its own step)",
    )

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        help=f"repeatable; one of: {', '.join(sorted(SCOPES))}",
    )

    db = commands.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the schema migrations")
    return parser


async def _create_key(settings: Settings, name: str, scopes: list[str]) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await create_api_key(session, name, scopes, SystemClock().now())
    finally:
        await engine.dispose()


async def _serve(app: object, settings: Settings, port: int, banner: str) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; uvicorn drains it (the lifespan stops the
    components, which finish the work in hand) before this returns."""
    import uvicorn

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    # uvicorn turns SIGINT/SIGTERM into a graceful shutdown, then re-raises the signal into
    # the handler that was there before it: make that one a no-op, so a clean stop exits 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    print(banner, flush=True)
    await server.serve()


async def _serve_api(settings: Settings, roles: tuple[Role, ...]) -> None:
    from services.api import create_app

    app = create_app(build_components(settings, roles))
    await _serve(
        app, settings, settings.port, f"Tifli is running: open {settings.public_base_url}/docs"
    )


async def _run_worker(settings: Settings, role: Role) -> None:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, as_json=settings.log_json)
    if args.command == "keys":
        try:
            scopes = parse_scopes(args.scope)
        except ValueError as exc:
            print(f"tifli: {exc}", file=sys.stderr)
            return 2
        upgrade(settings.database_url)
        print(asyncio.run(_create_key(settings, args.name, scopes)))
        return 0
    if args.command == "db":
        upgrade(settings.database_url)
        return 0
    if not args.no_migrate:
        upgrade(settings.database_url)
    if args.role == "all":
        asyncio.run(_serve_api(settings, ALL_ROLES))
    elif args.role == "intake-api":
        asyncio.run(_serve_api(settings, ("intake-api",)))
    else:
        asyncio.run(_run_worker(settings, args.role))
    return 0


if __name__ == "__main__":
    sys.exit(main())
