"""A partner known to answer again catches up at once, not on its back-off schedule, and a
partner verified again gets what it is owed, even what died while it was gone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.fanout import edited_body
from dispatcher.models import Delivery, Partner
from dispatcher.ordering import TAKE_DOWNS, taken_down
from dispatcher.row_locks import free_rows


async def bring_forward(session: AsyncSession, partner_id: str, now: datetime) -> int:
    """The partner's deliveries still waiting out a back-off become due now (the claim keeps
    each alert's versions in order), in the caller's transaction; one it throttled (429 with
    a ``Retry-After``: ``Delivery.retry_not_before``) once that time comes, not before. A
    pause a 503 asked for ends (the partner is back); a 429's holds (``pauses``).
    Called whenever the partner is seen answering: a delivery or a test event accepted, a
    handshake passed. Returns how many."""
    # A row another transaction holds (pausing it, verifying it) is left to it: the pause
    # still ends at its time, and waiting for it here, after the deliveries a recorder
    # holds, could close a circle of waits with a verification (``row_locks``).
    await session.execute(
        update(Partner)
        .where(
            free_rows(
                Partner.id == partner_id, Partner.unavailable_until.is_not(None), key=Partner.id
            )
        )
        .values(unavailable_until=None)
        .execution_options(synchronize_session="fetch")  # the partner as it is shown after
    )
    throttled = Delivery.retry_not_before > now
    result = await session.execute(
        update(Delivery)
        .where(
            free_rows(
                Delivery.partner_id == partner_id,
                Delivery.status == "pending",
                Delivery.attempts > 0,
                Delivery.next_attempt_at > now,
                or_(
                    Delivery.retry_not_before.is_(None),
                    Delivery.retry_not_before < Delivery.next_attempt_at,
                ),
            )
        )
        .values(next_attempt_at=case((throttled, Delivery.retry_not_before), else_=now))
        .execution_options(synchronize_session=False)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


async def owed_again(
    session: AsyncSession, partner_id: str, now: datetime, cancel_retry: timedelta
) -> int:
    """What the partner is owed of each alert it has versions of, made able to go, in the
    caller's transaction where the partner is verified again (it was disabled, or failing).
    For each alert with a version waiting or dead, its newest version:

    - dead (answered 410 Gone, or its retries spent while the partner failed), or a
      take-down whose time ran out before it went: due again. A take-down always, with
      ``cancel_retry`` anew (the child was found: the partner may still show the alert);
      any other version only while its alert is up;
    - of an alert the partner was never shown (no version delivered, none on its way):
      sent as ``alert.issued``, the versions before it superseded, since a partner never
      sees an Update before its Alert.

    Returns how many versions were made due."""
    waiting = select(Delivery.alert_id).where(
        Delivery.partner_id == partner_id, Delivery.status.in_(("pending", "dead"))
    )
    # Locked, as their states decide what is done: a version being claimed meanwhile is
    # waited for and read as it then is (in flight: nothing of its alert waits), rather than
    # set back to pending while it is sent. In id order, as the attempt recorder locks
    # (``row_locks``).
    locked = await session.scalars(
        select(Delivery)
        .where(
            Delivery.partner_id == partner_id,
            Delivery.alert_id.in_(waiting),
            Delivery.status != "superseded",
        )
        .order_by(Delivery.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    versions = sorted(locked, key=lambda d: (d.alert_id, d.sequence))
    due = 0
    for _, of_alert in groupby(versions, key=lambda d: d.alert_id):
        *older, newest = of_alert
        if newest.status not in ("pending", "dead"):
            continue  # delivered, or on its way: nothing of this alert waits on the partner
        if newest.event_type in TAKE_DOWNS:
            newest.deadline = max(newest.deadline, now + cancel_retry)
        elif newest.deadline <= now or await session.scalar(select(taken_down(newest))):
            continue  # the alert is over: only its take-down goes now
        if not any(d.status in ("delivered", "sending") for d in older):
            for earlier in older:
                earlier.status = "superseded"
            if newest.event_type == "alert.updated":
                reissued(newest)
        # Not before a time the partner asked for (a 429 with its Retry-After): verified
        # again, it still holds its limit.
        when = max(now, newest.retry_not_before or now) if newest.status == "pending" else now
        if newest.status == "dead" or newest.next_attempt_at > when:
            due += 1
        newest.status, newest.next_attempt_at, newest.lease_until = "pending", when, None
    return due


async def as_the_alert_where_unseen(session: AsyncSession, claimed: Sequence[Delivery]) -> None:
    """Of deliveries being claimed, each Update going out for the first time to a partner
    that holds no version of its alert (none delivered: the Alert died on the way, by its
    retries or its deadline; or the last one delivered took the alert down) goes as the
    alert itself, and what died before it is superseded (it no longer waits on anyone), in
    the caller's transaction. Decided when they are claimed, where nothing can still change
    the versions before them (none is owed: they are delivered, dead or superseded), so no
    race with the recording of an attempt lets an Update of an alert the partner never had
    through. One query for the batch; an Update already sent keeps its bytes (a retry is
    the same request)."""
    first_sends = [d for d in claimed if d.event_type == "alert.updated" and not d.attempts]
    if not first_sends:
        return
    delivered = await session.execute(
        select(Delivery.alert_id, Delivery.partner_id, Delivery.sequence, Delivery.event_type)
        .where(
            Delivery.status == "delivered",
            Delivery.alert_id.in_({d.alert_id for d in first_sends}),
            Delivery.partner_id.in_({d.partner_id for d in first_sends}),
        )
        .order_by(Delivery.sequence)
    )
    shown: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for alert_id, partner_id, sequence, event_type in delivered:
        shown.setdefault((alert_id, partner_id), []).append((sequence, event_type))
    for update_ in first_sends:
        before = [
            event_type
            for sequence, event_type in shown.get((update_.alert_id, update_.partner_id), [])
            if sequence < update_.sequence
        ]
        if before and before[-1] not in TAKE_DOWNS:
            continue  # the partner holds the alert: an Update it is
        reissued(update_)
        # A dead version another transaction holds stays dead: it waits on no one either way.
        await session.execute(
            update(Delivery)
            .where(
                free_rows(
                    Delivery.alert_id == update_.alert_id,
                    Delivery.partner_id == update_.partner_id,
                    Delivery.sequence < update_.sequence,
                    Delivery.status == "dead",
                )
            )
            .values(status="superseded")
            .execution_options(synchronize_session=False)
        )


def reissued(delivery: Delivery) -> None:
    """``delivery`` sent as the alert itself (``alert.issued``), its version and body else
    unchanged: the first of the alert to reach its partner."""
    delivery.event_type = "alert.issued"
    delivery.payload = edited_body(delivery.payload, type="alert.issued")
