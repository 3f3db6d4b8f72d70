"""The alerts that are up, for partners that join while they are.

A partner that becomes active (registered, or verified again after being disabled) is sent
each alert up in its coverage at once, as a new alert at its newest version. Without this it
would get nothing until the alert's next version, which may never come: a zone that reached
its cap is not widened again.

Planning a version and catching a partner up must never miss each other. A version planned
while the partner was not yet active, for an alert the catch-up did not see yet, would reach
the partner neither way; were it a Cancel, the partner would keep the alert up after the
child is found. So on PostgreSQL, planning holds a transaction lock in shared mode and a
catch-up holds it alone: each sees all that the other committed. On SQLite every
transaction already runs alone (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.fanout import covers
from dispatcher.models import Delivery, KnownAlert, Partner
from dispatcher.ordering import TAKE_DOWNS
from dispatcher.planning import new_delivery
from shared.db import insert_on_conflict
from shared.events import AlertEvent, AlertIssued, AlertUpdated, parse_event

# The advisory lock's key: any fixed 64-bit number no other lock of the database uses.
_PLANNING_LOCK = 0x7469666C695F70  # "tifli_p"


async def remember(session: AsyncSession, event: AlertEvent, cap_url: str) -> None:
    """Keeps the event as its alert's newest version, or only that the alert was taken down;
    in the planning transaction, before its partners are chosen (the lock must cover that
    choice). An older version than the one kept (a redelivery) changes nothing."""
    await _hold(session, alone=False)
    alert = event.data.alert
    # A take-down keeps no child data, only its sequence: nothing older comes back after it.
    taken_down = event.type in TAKE_DOWNS
    insert = insert_on_conflict(session, KnownAlert).values(
        alert_id=alert.alert_id,
        sequence=alert.sequence,
        expires=alert.expires,
        event=None if taken_down else event.model_dump_json(),
        cap_url=None if taken_down else cap_url,
    )
    # One statement, so that two versions of a new alert handled at once (a consumer group
    # rebalancing) cannot collide: the newer one wins, whichever comes last.
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[KnownAlert.alert_id],
            set_={
                column: insert.excluded[column]
                for column in ("sequence", "expires", "event", "cap_url")
            },
            where=KnownAlert.sequence < insert.excluded.sequence,
        )
    )


async def taken_down_after(session: AsyncSession, alert_id: str, sequence: int) -> bool:
    """Whether the alert is known taken down by a version after ``sequence``: a version that
    comes after its take-down (one parked on the dead-letter topic, sent again) is sent to no
    partner, who would show it for a child already found, with no Cancel to follow."""
    taken_down = await session.scalar(
        select(KnownAlert.alert_id).where(
            KnownAlert.alert_id == alert_id,
            KnownAlert.sequence > sequence,
            KnownAlert.event.is_(None),
        )
    )
    return taken_down is not None


async def catch_up(session: AsyncSession, partner: Partner, now: datetime) -> list[Delivery]:
    """Deliveries of the alerts up in the partner's coverage that it has no version of, each
    at its newest version, in the caller's transaction (where the partner became active)."""
    await _hold(session, alone=True)
    has_any = exists().where(
        Delivery.alert_id == KnownAlert.alert_id, Delivery.partner_id == partner.id
    )
    rows = await session.scalars(
        select(KnownAlert)
        .where(KnownAlert.event.is_not(None), KnownAlert.expires > now, ~has_any)
        .order_by(KnownAlert.alert_id)
    )
    planned = []
    for row in rows:
        assert row.event is not None and row.cap_url is not None  # selected so
        event = parse_event(row.event)
        if not isinstance(event, AlertIssued | AlertUpdated):
            continue  # never stored (``remember``): a take-down keeps no event
        if not covers(partner.coverage, event.data.alert):
            continue
        delivery = new_delivery(
            event, partner, "alert.issued", row.cap_url, now=now, deadline=row.expires
        )
        session.add(delivery)
        planned.append(delivery)
    return planned


async def hold_planning(session: AsyncSession) -> None:
    """The planning lock alone, until the transaction ends: what a partner's activation
    takes first, before it writes anything (``catch_up`` takes it again, harmlessly). Taken
    after the activation's own row locks, it would wait on planning while planning waits on
    them: a deadlock."""
    await _hold(session, alone=True)


async def _hold(session: AsyncSession, *, alone: bool) -> None:
    """The planning lock until the transaction ends: shared for planning, alone for a
    catch-up. Nothing to take on SQLite, where transactions never overlap."""
    if session.get_bind().dialect.name != "postgresql":
        return
    take = func.pg_advisory_xact_lock if alone else func.pg_advisory_xact_lock_shared
    await session.execute(select(take(_PLANNING_LOCK)))
