"""``tifli deliveries``: what was sent to whom, and sending again what died."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options, parse_since

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from sqlalchemy.ext.asyncio import AsyncSession

    from dispatcher.schemas import DeliveryOut
    from shared.settings import Settings

STATUSES = ("pending", "sending", "delivered", "dead", "superseded")


def register(commands: Any) -> None:
    deliveries = commands.add_parser(
        "deliveries",
        help="webhook deliveries: list, replay",
        description="Webhook deliveries to partners.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = add_command(
        deliveries,
        "list",
        summary="list deliveries, newest first: status, attempts, last answer",
        example="tifli deliveries list --status dead --since 1h",
    )
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--partner", metavar="ID", help="one partner's deliveries only")
    listing.add_argument("--alert", metavar="ID", help="one alert's deliveries only")
    listing.add_argument(
        "--since",
        type=parse_since,
        metavar="DURATION",
        help="created within this long ago, e.g. 30m, 1h, 2d",
    )
    replay = add_command(
        deliveries,
        "replay",
        summary="send a delivery again, with the same webhook-id (the partner deduplicates)",
        example="""
        tifli deliveries replay c3a1e9f0-5b7d-4c2e-8a6f-1d4b9e7c2a58
        tifli deliveries replay --all-dead --since 1h   # e.g. after a partner's outage
        """,
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("delivery_id", nargs="?", metavar="ID")
    which.add_argument("--all-dead", action="store_true", help="every dead delivery (see --since)")
    replay.add_argument(
        "--since",
        type=parse_since,
        metavar="DURATION",
        help="with --all-dead: only those created within this long ago",
    )
    for action in (listing, replay):
        add_database_options(action)
        action.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.database_target import run_on_database

    if args.action == "replay" and args.since is not None and not args.all_dead:
        print("tifli: --since goes with --all-dead", file=sys.stderr)
        return 2
    return run_on_database(settings, init=args.init, work=lambda: _deliveries(settings, args))


async def _deliveries(settings: Settings, args: argparse.Namespace) -> int:
    from shared.clock import SystemClock
    from shared.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    now = SystemClock().now()
    try:
        async with session_factory(engine)() as session:
            if args.action == "list":
                return await _list(session, now, args)
            retry = timedelta(hours=settings.cancel_retry_hours)
            if args.all_dead:
                return await _replay_dead(session, now, args.since, retry)
            return await _replay(session, now, [args.delivery_id], retry)
    finally:
        await engine.dispose()


async def _matching(
    session: AsyncSession,
    now: datetime,
    *,
    status: str | None,
    since: timedelta | None,
    partner_id: str | None = None,
    alert_id: str | None = None,
) -> AsyncIterator[DeliveryOut]:
    """Deliveries newest first, page by page; stops at the first one older than ``since``."""
    from dispatcher.delivery_ops import DeliveryService

    offset: int | None = 0
    while offset is not None:
        async with session.begin():
            page = await DeliveryService(session, now).page(
                alert_id=alert_id,
                partner_id=partner_id,
                status=status,  # type: ignore[arg-type]  # one of STATUSES (argparse choices)
                limit=200,
                offset=offset,
            )
        for delivery in page.items:
            if since is not None and delivery.created_at < now - since:
                return
            yield delivery
        offset = page.next_offset


async def _list(session: AsyncSession, now: datetime, args: argparse.Namespace) -> int:
    from services.cli.tables import table, when

    rows = [
        (
            d.id,
            when(d.created_at),
            d.status,
            d.event_type,
            str(d.attempts),
            "-" if d.last_status_code is None else str(d.last_status_code),
            d.partner_id,
            d.last_error or "",
        )
        async for d in _matching(
            session,
            now,
            status=args.status,
            since=args.since,
            partner_id=args.partner,
            alert_id=args.alert,
        )
    ]
    print(
        table(
            ("ID", "CREATED", "STATUS", "EVENT", "TRIES", "LAST", "PARTNER", "LAST ERROR"),
            rows,
        )
    )
    return 0


async def _replay_dead(
    session: AsyncSession, now: datetime, since: timedelta | None, retry: timedelta
) -> int:
    dead = [d.id async for d in _matching(session, now, status="dead", since=since)]
    if not dead:
        print("no dead deliveries" + (" in that period" if since else ""))
        return 0
    # Oldest first: a partner catching up gets each alert's versions in their order.
    return await _replay(session, now, list(reversed(dead)), retry)


async def _replay(
    session: AsyncSession, now: datetime, delivery_ids: list[str], retry: timedelta
) -> int:
    from dispatcher.delivery_ops import DeliveryService
    from shared.problems import Problem

    refused = 0
    for delivery_id in delivery_ids:
        try:
            async with session.begin():
                await DeliveryService(session, now).replay(delivery_id, retry)
        except Problem as problem:
            refused += 1
            print(f"{delivery_id}: not replayed: {problem.detail}", file=sys.stderr)
            continue
        print(f"{delivery_id}: queued again (the dispatcher sends it on its next pass)")
    if len(delivery_ids) > 1:
        print(f"{len(delivery_ids) - refused} of {len(delivery_ids)} queued again")
    return 1 if refused else 0
