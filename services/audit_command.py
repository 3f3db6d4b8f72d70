"""``tifli audit verify``: checks the audit log's whole hash chain on the host."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shared.db import create_engine, session_factory
from shared.settings import Settings


def add_parser(commands: Any) -> None:
    """``commands``: the ``tifli`` parser's subparsers."""
    audit = commands.add_parser("audit", help="the audit log")
    actions = audit.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "verify",
        help="check the hash chain: exit 0 with the count verified, 1 naming the first "
        "entry that does not hold",
    )


async def run(settings: Settings, _args: argparse.Namespace) -> int:
    from intake_api.audit_log import verify

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
