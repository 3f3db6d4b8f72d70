"""``tifli events``: the events some service never finished, and sending them again."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options, parse_since

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from shared.settings import Settings

# An event younger than this is most likely still on its way to its consumer.
_IN_FLIGHT = "1m"


def register(commands: Any) -> None:
    events = commands.add_parser(
        "events",
        help="events a service never finished: unfinished, redrive",
        description="Events published from the outbox that a consumer group never finished: "
        "parked on the dead-letter topic after failing (tifli_events_dead_lettered_total "
        "counts them), or still on their way.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = add_command(
        events,
        "unfinished",
        summary="list published events some consumer group never finished, oldest first",
        example="tifli events unfinished --older-than 10m",
    )
    redrive = add_command(
        events,
        "redrive",
        summary="send again the published events some consumer group never finished, in "
        "their order (consumers drop what they already did; a closed case's approval or "
        "renewal puts no alert up, nor an approval whose time window has closed)",
        example="""
        tifli events unfinished        # what would go again
        tifli events redrive           # once what made them fail is fixed
        """,
    )
    for action in (listing, redrive):
        action.add_argument(
            "--older-than",
            type=parse_since,
            default=parse_since(_IN_FLIGHT),
            metavar="DURATION",
            help=f"published at least this long ago (default {_IN_FLIGHT}: younger ones are "
            "most likely on their way), e.g. 10m, 1h",
        )
        add_database_options(action)
        action.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.database_target import run_on_database

    return run_on_database(
        settings, init=args.init, work=lambda: _events(settings, args.action, args.older_than)
    )


async def _events(settings: Settings, action: str, older_than: timedelta) -> int:
    from services.cli.tables import table, when
    from services.components import CONSUMERS
    from shared.clock import SystemClock
    from shared.db import create_engine, session_factory
    from shared.outbox import unpublished
    from shared.unfinished_events import find_unfinished, requeue_unfinished

    engine = create_engine(settings.database_url)
    now = SystemClock().now()
    # Older rows only wait to be pruned: what consumers remember of them may be gone.
    after, before = now - timedelta(days=settings.event_retention_days), now - older_than
    try:
        async with session_factory(engine)() as session, session.begin():
            # Left out below, but said: an event parked on the dead-letter topic a moment
            # ago is among them, and "all finished" would send its operator away.
            young = {u.event_id for u in await find_unfinished(session, CONSUMERS, before)}
            if action == "redrive":
                count = await requeue_unfinished(session, CONSUMERS, after, before)
                print(
                    f"{count} event{'' if count == 1 else 's'} sent again"
                    if count
                    else "nothing to send again"
                )
                _say_young(len(young), before)
                return 0
            found = await find_unfinished(session, CONSUMERS, after, before)
            backlog = await unpublished(session, before)
    finally:
        await engine.dispose()
    if backlog.count and backlog.oldest is not None:
        # Never published, so no consumer left them unfinished: with no relay running, a
        # resolution waits here, and the listing below would say all is well.
        print(
            f"{backlog.count} event{'' if backlog.count == 1 else 's'} not yet published, the "
            f"oldest written {when(backlog.oldest)}: is a relay running ('tifli run relay')?"
        )
    _say_young(len(young), before)
    if not found:
        if not young:
            print("every published event was finished by every consumer group")
        return 0
    rows = [(u.event_id, when(u.published_at), u.event_type, u.group, u.key) for u in found]
    print(table(("EVENT ID", "PUBLISHED", "TYPE", "NOT FINISHED BY", "ABOUT"), rows))
    return 0


def _say_young(count: int, since: datetime) -> None:
    from services.cli.tables import when

    if count:
        print(
            f"{count} event{' was' if count == 1 else 's were'} published since {when(since)} "
            "and not yet finished: on their way, or just parked on the dead-letter topic "
            "(look again in a minute, or pass --older-than)"
        )
