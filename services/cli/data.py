"""``tifli data-key rotate``, ``tifli reports erase`` and ``tifli reports reconcile``: the
commands on data at rest."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options, parse_moment

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from shared.settings import Settings


def register(commands: Any) -> None:
    data_key = commands.add_parser(
        "data-key",
        help="the data key sealing personal data and partner secrets",
        description="The data key (TIFLI_DATA_KEY) sealing personal data and partner secrets.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = add_command(
        data_key,
        "rotate",
        summary="re-seal every sealed value with the first key of TIFLI_DATA_KEY "
        "(the older keys may be removed afterwards)",
        example="""
        TIFLI_DATA_KEY="$NEW_KEY,$OLD_KEY" tifli data-key rotate
        # then restart every process with TIFLI_DATA_KEY="$NEW_KEY"
        """,
    )
    reports = commands.add_parser(
        "reports",
        help="cases: erase an ended case's personal data; close and erase again after a restore",
        description="Cases.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    erase = add_command(
        reports,
        "erase",
        summary="erase an ended case's personal data now, before its retention time (audited)",
        example="tifli reports erase 7b0c2f4e-1a9d-4e53-9c61-2f8d3b5a7e10",
    )
    erase.add_argument("report_id", metavar="REPORT_ID")
    for action in (rotate, erase):
        add_database_options(action)
        action.set_defaults(handler=handle)
    reconcile = add_command(
        reports,
        "reconcile",
        summary="after a database restore, resolve, cancel, reject and erase again the cases "
        "the report events since the backup say were (Kafka only; audited as 'reconcile')",
        example="""
        # the API and the relay running on the restored database; engine and dispatcher not yet
        tifli reports reconcile --since 2026-03-14T02:00:00Z
        """,
    )
    reconcile.add_argument(
        "--since",
        required=True,
        type=parse_moment,
        metavar="TIME",
        help="when the backup was taken, ISO 8601 with its offset (2026-03-14T02:00:00Z); "
        "earlier is safe: what the database already has is left as it is",
    )
    reconcile.set_defaults(handler=handle_reconcile)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services import data_commands
    from services.cli.database_target import run_on_database

    return run_on_database(settings, init=args.init, work=lambda: data_commands.run(settings, args))


def handle_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.database_target import run_on_database
    from services.reports_reconcile import reconcile

    return run_on_database(settings, init=False, work=lambda: reconcile(settings, args.since))
