"""``tifli keys`` and ``tifli units``: API keys and the police units they belong to."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options, parse_duration

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from sqlalchemy.ext.asyncio import AsyncSession

    from intake_api.key_schemas import KeyOut
    from shared.settings import Settings


def register(commands: Any) -> None:
    keys = commands.add_parser(
        "keys", help="API keys: create, list, revoke", description="API keys."
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    create = add_command(
        keys,
        "create",
        summary="create a key and print it (once: it is stored hashed)",
        example="""
        tifli keys create --name casa-desk --unit CASA-ANFA --scope reports:submit \\
            --scope reports:read --expires-in 90d
        tifli keys create --name central-review --national --scope reports:review
        """,
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        help="repeatable, e.g. reports:submit (an unknown scope is refused with the list)",
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
    listing = add_command(
        keys,
        "list",
        summary="list keys: reach, scopes, state, expiry, last use",
        example="tifli keys list",
    )
    revoke = add_command(
        keys,
        "revoke",
        summary="revoke a key: refused from its next request on",
        example="tifli keys revoke casa-desk    # by name, id, or the whole key",
    )
    revoke.add_argument("key", metavar="NAME|ID|KEY")

    units = commands.add_parser(
        "units", help="police units that keys and cases belong to", description="Police units."
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    add_unit = add_command(
        units,
        "add",
        summary="add a unit",
        example='tifli units add CASA-ANFA --name "DGSN Casablanca Anfa"',
    )
    add_unit.add_argument("code", help="e.g. CASA-ANFA (capitals, digits, '.', '_', '-')")
    add_unit.add_argument("--name", required=True, help="e.g. 'DGSN Casablanca Anfa'")
    list_units = add_command(units, "list", summary="list units", example="tifli units list")
    for parser in (create, listing, revoke, add_unit, list_units):
        add_database_options(parser)
        parser.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.database_target import run_on_database
    from shared.auth import parse_scopes

    if args.command == "keys" and args.action == "create":
        try:
            parse_scopes(args.scope)
        except ValueError as exc:
            print(f"tifli: {exc}", file=sys.stderr)
            return 2
    return run_on_database(settings, init=args.init, work=lambda: _keys(settings, args))


def _name_refused(name: str | None) -> str | None:
    """Why ``--name`` cannot be a key's or a unit's name, as the API would say; None if it can."""
    from pydantic import TypeAdapter, ValidationError

    from intake_api.key_schemas import DisplayName

    if name is None:
        return None
    try:
        TypeAdapter(DisplayName).validate_python(name)
    except ValidationError as exc:
        return f"--name: {exc.errors()[0]['msg']}"
    return None


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from intake_api import keys
    from shared.auth import add_unit, list_units
    from shared.clock import SystemClock
    from shared.db import create_engine, session_factory

    refused = _name_refused(getattr(args, "name", None))
    if refused is not None:
        print(f"tifli: {refused}", file=sys.stderr)
        return 2
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
    from services.cli.tables import table, when

    return table(
        ("ID", "NAME", "REACH", "STATE", "EXPIRES", "LAST USED", "SCOPES"),
        [
            (
                row.id,
                row.name,
                row.unit or "national",
                row.state,
                when(row.expires_at),
                when(row.last_used_at),
                ",".join(row.scopes),
            )
            for row in rows
        ],
    )
