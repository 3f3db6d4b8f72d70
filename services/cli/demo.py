"""``tifli demo``: a drill anyone can run right after set-up, with nothing else installed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, output_file

if TYPE_CHECKING:
    from shared.settings import Settings


def register(commands: Any) -> None:
    demo = add_command(
        commands,
        "demo",
        summary="run a drill on this machine: the embedded mode on a temporary database, a "
        "partner simulator on loopback, one Exercise case from report to Cancel",
        example="""
        tifli demo                      # writes the zone's picture to tifli-demo-zone.svg
        tifli demo -o /srv/drills/zone.svg
        """,
    )
    demo.add_argument(
        "-o",
        "--output",
        type=output_file,
        default=Path("tifli-demo-zone.svg"),
        metavar="FILE.svg",
        help="where to draw the alert's zone (default: %(default)s)",
    )
    demo.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: `tifli --help` stays quick

    from services.demo.drill import DrillFailed, run_drill
    from shared.logging import configure_logging

    # The transcript is the output: only warnings and errors from the services beside it.
    configure_logging("WARNING", as_json=False)
    began = time.monotonic()
    print("Tifli drill: one Exercise case, from report to take-down, on this machine")
    try:
        timings = asyncio.run(run_drill(args.output, lambda line: print(line, flush=True)))
    except DrillFailed as exc:
        print(f"tifli: the drill failed: {exc}", file=sys.stderr)
        return 1
    print("\nSummary")
    for name, seconds in timings:
        print(f"  {name:<42} {seconds * 1000:8.0f} ms")
    print(f"  {'the whole drill':<42} {(time.monotonic() - began) * 1000:8.0f} ms")
    print("  3 signed webhooks received and verified (Alert, Update, Cancel)")
    print(f"  zone picture: {args.output}")
    return 0
