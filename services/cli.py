"""``tifli``: run the services, manage keys, units and partners, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from services import audit_command
from services.components import ALL_ROLES, Role, build_components
from services.database import upgrade
from shared.auth import SCOPES, parse_scopes
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.logging import configure_logging
from shared.settings import Settings

if TYPE_CHECKING:  # imported when a keys command runs: `tifli --help` stays quick
    from sqlalchemy.ext.asyncio import AsyncSession

    from intake_api.key_schemas import KeyOut

COMMANDS = ("run", "keys", "units", "db", "audit")
_DURATION = re.compile(r"^([1-9][0-9]{0,4})([hdw])$")
_DURATION_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w``: a key's lifetime on the command line."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a count and h, d or w (e.g. 90d)")
    return timedelta(**{_DURATION_UNITS[match[2]]: int(match[1])})


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
    # A key's reach is always an explicit choice: a forgotten --unit must not make a key that
    # sees every unit's cases.
    reach = create.add_mutually_exclusive_group(required=True)
    reach.add_argument("--unit", metavar="CODE", help="the unit (see 'tifli units list')")
    reach.add_argument(
        "--national", action="store_true", help="sees every unit's cases (review, operators)"
    )
    create.add_argument(
        "--expires-in",
        type=parse_duration,
        metavar="DURATION",
        help="e.g. 90d, 12h, 2w (default: no expiry)",
    )
    keys.add_parser("list", help="list keys: reach, scopes, state, expiry, last use")
    revoke = keys.add_parser("revoke", help="revoke a key: refused from its next request on")
    revoke.add_argument("key", metavar="NAME|ID")

    units = commands.add_parser("units", help="police units that keys and cases belong to")
    unit_actions = units.add_subparsers(dest="action", required=True)
    add_unit = unit_actions.add_parser("add", help="add a unit")
    add_unit.add_argument("code", help="e.g. CASA-ANFA (capitals, digits, '.', '_', '-')")
    add_unit.add_argument("--name", required=True, help="e.g. 'DGSN Casablanca Anfa'")
    unit_actions.add_parser("list", help="list units")

    db = commands.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the schema migrations")
    audit_command.add_parser(commands)
    return parser


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from intake_api import keys
    from shared.auth import add_unit, list_units

    now = SystemClock().now()
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            if args.command == "units" and args.action == "add":
                try:
                    unit = await add_unit(session, args.code, args.name, now)
                except ValueError as exc:
                    print(f"tifli: {exc}", file=sys.stderr)
                    return 2
                print(f"unit {unit.code} added")
            elif args.command == "units":
                for unit in await list_units(session):
                    print(f"{unit.code}\t{unit.name}")
            elif args.action == "create":
                try:
                    created = await keys.create(
                        session,
                        keys.CLI_ACTOR,
                        now,
                        name=args.name,
                        scopes=args.scope,
                        unit=args.unit,
                        expires_in=args.expires_in,
                    )
                except keys.KeyRulesError as exc:
                    print(f"tifli: {exc}", file=sys.stderr)
                    return 2
                print(created.key)
            elif args.action == "list":
                print(_key_table(await _all_keys(session, now)))
            else:
                try:
                    revoked = await keys.revoke_key(session, keys.CLI_ACTOR, now, args.key)
                except LookupError as exc:
                    print(f"tifli: {exc}", file=sys.stderr)
                    return 1
                when = f"{revoked.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
                print(f"key {revoked.id} ({revoked.name}) revoked at {when}")
    finally:
        await engine.dispose()
    return 0


async def _all_keys(session: AsyncSession, now: datetime) -> list[KeyOut]:
    from intake_api import keys

    found: list[KeyOut] = []
    offset: int | None = 0
    while offset is not None:
        page = await keys.page(session, now, 200, offset)
        found.extend(page.items)
        offset = page.next_offset
    return found


def _key_table(rows: list[KeyOut]) -> str:
    def when(moment: datetime | None) -> str:
        return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"

    lines = [("ID", "NAME", "REACH", "STATE", "EXPIRES", "LAST USED", "SCOPES")]
    for row in rows:
        lines.append(
            (
                row.id,
                row.name,
                row.unit or "national",
                row.state,
                when(row.expires_at),
                when(row.last_used_at),
                ",".join(row.scopes),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    )


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
    await _serve(app, settings, settings.port, f"Tifli is running: open {settings.base_url}/docs")


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
    if args.command in ("keys", "units"):
        if args.command == "keys" and args.action == "create":
            try:
                parse_scopes(args.scope)
            except ValueError as exc:
                print(f"tifli: {exc}", file=sys.stderr)
                return 2
        upgrade(settings.database_url)
        return asyncio.run(_keys(settings, args))
    if args.command == "db":
        upgrade(settings.database_url)
        return 0
    if args.command == "audit":
        upgrade(settings.database_url)
        return asyncio.run(audit_command.run(settings, args))
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
