"""Delivery planning: each alert version becomes one delivery per targeted partner, and the
older versions it makes pointless to send are superseded. Runs in the caller's transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.fanout import covers, webhook_body, webhook_id_for
from dispatcher.models import Delivery, Partner
from dispatcher.ordering import earlier_versions_waiting, replaces
from shared.events import AlertEvent


async def plan_deliveries(
    session: AsyncSession,
    event: AlertEvent,
    *,
    now: datetime,
    cancel_retry: timedelta,
    public_base_url: str,
) -> list[tuple[Delivery, Partner]]:
    """One delivery per targeted partner for this alert version."""
    alert = event.data.alert
    cancelling = alert.msg_type == "Cancel"
    # Each partner that is active or already has this alert, with which: one round trip, on
    # the path of every alert to its partners.
    has_alert = exists().where(
        Delivery.alert_id == alert.alert_id, Delivery.partner_id == Partner.id
    )
    candidates = select(Partner, has_alert.label("informed")).where(
        or_(Partner.status == "active", has_alert)
    )
    rows = (await session.execute(candidates)).all()
    informed = {partner.id for partner, already in rows if already}
    planned: list[tuple[Delivery, Partner]] = []
    for partner, _ in rows:
        # A partner that has the alert follows it to the end, even if the zone moves out
        # of its coverage; a Cancel goes to exactly those partners. One disabled or sent
        # back to the handshake meanwhile still gets its versions planned: they wait (only
        # an active partner's deliveries are claimed) and go out, the newest superseding
        # the rest, once it is active again. Otherwise a partner away when the child is
        # found would keep showing the alert: its Cancel would never exist.
        if not (partner.id in informed or (not cancelling and covers(partner.coverage, alert))):
            continue
        # A partner reached for the first time by an Update (the zone grew into its
        # coverage) gets it as a new alert: it never sees an Update before its Alert.
        event_type = event.type if partner.id in informed else "alert.issued"
        delivery = new_delivery(
            event,
            partner,
            event_type,
            cap_url(public_base_url, alert.alert_id, alert.sequence),
            now=now,
            # Never past the alert's expiry — except a Cancel, which must get through.
            deadline=now + cancel_retry if cancelling else alert.expires,
        )
        if alert.sequence > 1:
            # A row another transaction holds is being claimed (it will be in flight) or
            # recorded: it is left to it (``row_locks``). Read unlocked, it would be
            # superseded over the claim's "sending" once that commits, and this version would
            # go out beside it, the Alert perhaps after its Cancel. Skipped, it stays owed and
            # this version waits for it (or, pending again, the sweep supersedes it:
            # ``replaced_while_waiting``).
            waiting = await session.scalars(
                select(Delivery)
                .where(earlier_versions_waiting(delivery))
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            for older in waiting:
                if replaces(event.type, older.event_type):
                    older.status = "superseded"
        session.add(delivery)
        planned.append((delivery, partner))
    return planned


def cap_url(public_base_url: str, alert_id: str, sequence: int) -> str:
    """Where partners fetch this version's signed CAP document (carried in every payload):
    this version's, not the newest, so that the JSON and the CAP describe one message."""
    return f"{public_base_url}/v1/alerts/{alert_id}/cap?sequence={sequence}"


def new_delivery(
    event: AlertEvent,
    partner: Partner,
    event_type: str,
    cap_url: str,
    *,
    now: datetime,
    deadline: datetime,
) -> Delivery:
    """The delivery of one alert version to one partner, due now, as ``event_type``."""
    alert = event.data.alert
    webhook_id = webhook_id_for(event.id, partner.id)
    return Delivery(
        id=str(uuid.uuid4()),
        webhook_id=webhook_id,
        partner_id=partner.id,
        alert_id=alert.alert_id,
        sequence=alert.sequence,
        event_type=event_type,
        payload=webhook_body(
            event_type, webhook_id, alert, partner.languages.split(), cap_url
        ).decode(),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        deadline=deadline,
        created_at=now,
    )
