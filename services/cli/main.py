"""The ``tifli`` parser: one registration line per command group."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from services.cli import audit, data, deliveries, demo, events, keys, partners, run, zone
from services.cli.arguments import gather_examples

COMMAND_GROUPS = (run, keys, partners, deliveries, events, data, audit, zone, demo)


class _Version(argparse.Action):
    """``--version``, looked up only when asked (package metadata is slow to scan)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("tifli")
        except PackageNotFoundError:  # run from a checkout that was never installed
            found = "unknown"
        print(f"tifli {found}")  # on stdout, as argparse's own version action does
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tifli",
        description="Missing-child alert pipeline. 'tifli COMMAND --help' explains each "
        "command with an example; 'tifli demo' runs a whole case on this machine.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    gather_examples(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from services.refusals import StartRefused, settings_errors
    from shared.logging import configure_logging
    from shared.settings import Settings, unread_variables

    try:
        settings = Settings()
        configure_logging(settings.log_level, as_json=settings.log_json)
    except ValueError as invalid:  # pydantic's errors and the settings' own are ValueErrors
        for line in settings_errors(invalid):
            print(f"tifli: {line}", file=sys.stderr)
        return 2
    for unread in unread_variables(os.environ):
        print(f"tifli: {unread} is not a setting: ignored", file=sys.stderr)
    try:
        status: int = args.handler(settings, args)
    except StartRefused as refused:  # settings no command can work with: say what to set
        print(f"tifli: {refused}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while a command waits: nothing to say
        return 130
    return status
