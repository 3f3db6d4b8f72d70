"""Argument types and the help layout every ``tifli`` command shares: standard library only,
so that ``tifli --help`` answers without loading the services."""

from __future__ import annotations

import argparse
import os
import re
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"^([1-9][0-9]{0,4})([mhdw])$")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(text: str, units: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None or match[2] not in units:
        names = ", ".join(units[:-1]) + " or " + units[-1]
        raise argparse.ArgumentTypeError(f"{text!r}: give a count and {names} (e.g. 90d)")
    return timedelta(**{_DURATION_UNITS[match[2]]: int(match[1])})


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w``: a key's lifetime on the command line."""
    return _duration(text, "hdw")


def parse_since(text: str) -> timedelta:
    """``30m``, ``1h``, ``2d``: how far back a listing looks."""
    return _duration(text, "mhdw")


def parse_moment(text: str) -> datetime:
    """``2026-03-14T02:00:00Z``: a moment, with its offset from UTC (without one, the same
    words name moments hours apart, depending on where the clock that wrote them was)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give an ISO 8601 time, e.g. 2026-03-14T02:00:00Z"
        ) from None
    if moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give its offset from UTC too, e.g. {moment:%Y-%m-%dT%H:%M:%S}Z or "
            f"{moment:%Y-%m-%dT%H:%M:%S}+01:00"
        )
    return moment


def output_file(text: str) -> Path:
    """``-o FILE``: a path whose folder exists and can be written, not a folder itself;
    checked as the command line is read, so that a wrong path is said in a line before any
    work, not in a traceback after it (the drill had approved its case, and sent no Cancel)."""
    path = Path(text)
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: name a file in it")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text} cannot be written")
    return path


def add_command(
    group: Any, name: str, *, summary: str, example: str, **kwargs: Any
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` ends with a worked example (``group`` is the object
    ``add_subparsers`` returned)."""
    parser: argparse.ArgumentParser = group.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog="example:\n" + textwrap.indent(textwrap.dedent(example).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )
    return parser


def gather_examples(parser: argparse.ArgumentParser) -> None:
    """A command group's ``--help`` (``tifli keys --help``) ends with its subcommands'
    examples, one each, so that the group's help shows how to use it too."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                gather_examples(child)
                examples = None if child.epilog else _examples_of(child)
                if examples:
                    child.epilog = examples
                    # Raw, to keep the examples' lines: the description is wrapped here.
                    if child.description:
                        child.description = textwrap.fill(child.description, 79)
                    child.formatter_class = argparse.RawDescriptionHelpFormatter


def _examples_of(group: argparse.ArgumentParser) -> str | None:
    lines = [
        line
        for action in group._actions
        if isinstance(action, argparse._SubParsersAction)
        for child in action.choices.values()
        if child.epilog and child.epilog.startswith("example:\n")
        for line in _first_command(child.epilog.removeprefix("example:\n"), child.prog)
    ]
    return "examples:\n" + "\n".join(lines) if lines else None


def _first_command(example: str, prog: str) -> list[str]:
    """An example's first use of ``prog`` (an example may show another command first, for
    context), with the lines it continues onto (a trailing ``\\``)."""
    lines = example.splitlines()
    start = next((i for i, line in enumerate(lines) if prog in line), 0)
    end = start + 1
    while end < len(lines) and lines[end - 1].rstrip().endswith("\\"):
        end += 1
    return lines[start:end]


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--init",
        action="store_true",
        help="create the schema if the database has none (otherwise that is an error)",
    )
