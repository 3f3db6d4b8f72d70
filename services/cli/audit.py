"""``tifli audit verify``: checks the audit log's whole hash chain on the host."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from shared.settings import Settings


def register(commands: Any) -> None:
    audit = commands.add_parser(
        "audit", help="the audit log: verify its hash chain", description="The audit log."
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = add_command(
        audit,
        "verify",
        summary="check the hash chain: exit 0 with the count verified, 1 naming the first "
        "entry that does not hold",
        example="tifli audit verify   # audit chain verified: 1532 entries",
    )
    add_database_options(verify)
    verify.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.database_target import run_on_database

    return run_on_database(settings, init=args.init, work=lambda: _verify(settings))


async def _verify(settings: Settings) -> int:
    from intake_api.audit_log import verify
    from shared.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            result = await verify(session)
    finally:
        await engine.dispose()
    if result.broken is not None:
        print(
            f"audit chain broken at {result.broken} ({result.verified} entries before it hold)",
            file=sys.stderr,
        )
        return 1
    print(f"audit chain verified: {result.verified} entries")
    return 0
