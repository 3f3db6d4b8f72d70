"""``tifli data-key rotate`` and ``tifli reports erase``: the commands on data at rest."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options

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
        "reports", help="cases: erase an ended case's personal data", description="Cases."
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


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services import data_commands
    from services.cli.database_target import run_on_database

    return run_on_database(settings, init=args.init, work=lambda: data_commands.run(settings, args))
