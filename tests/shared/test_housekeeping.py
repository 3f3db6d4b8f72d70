"""Housekeeping prunes what is no longer needed, and only that, on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from alert_engine.models import ClosedReport, EarlyChange, EarlyRenewal
from dispatcher.models import Delivery, DeliveryAttempt, KnownAlert, Partner
from services.components import Components
from shared.alert_contract import Point
from shared.events import SightingAddedData
from shared.inbox import ProcessedEvent
from shared.outbox import OutboxEvent
from tests.shared.conftest import NOW

OLD = NOW - timedelta(days=200)  # past every retention
RECENT = NOW - timedelta(hours=1)  # within every retention
# Past the outbox's 8 days, within the day longer that consumers remember what they handled.
BETWEEN = NOW - timedelta(days=8, hours=12)


def _outbox(published_at: datetime | None) -> OutboxEvent:
    return OutboxEvent(
        event_id=str(uuid.uuid4()),
        topic="reports",
        key="k",
        event_type="report.approved",
        payload="{}",
        created_at=OLD,
        published_at=published_at,
    )


def _sighting(n: int) -> SightingAddedData:
    return SightingAddedData(
        report_id=f"sighted-{n}",
        sighting_id=f"sighting-{n}",
        point=Point(lat=33.57, lon=-7.59),
        place=None,
        seen_at=NOW,
        trusted=True,
        alert_id=f"alert-of-sighted-{n}",
    )


def _delivery(partner: Partner, status: str, n: int) -> Delivery:
    return Delivery(
        id=str(uuid.uuid4()),
        webhook_id=f"msg_{uuid.uuid4().hex}",
        partner_id=partner.id,
        alert_id=str(uuid.uuid4()),
        sequence=n,
        event_type="alert.issued",
        payload="{}",
        status=status,
        next_attempt_at=OLD,
        deadline=NOW + timedelta(days=1),
        created_at=OLD,
    )


async def test_prunes_what_is_done_with_and_keeps_the_rest(components: Components) -> None:
    partner = Partner(
        id=str(uuid.uuid4()),
        name="p",
        url="https://p.example",
        languages="fr",
        status="active",
        verify_token="t",
        secret="s",
        created_at=OLD,
    )
    delivered, owed = _delivery(partner, "delivered", 1), _delivery(partner, "pending", 2)
    async with components.sessions() as session, session.begin():
        session.add_all(
            [_outbox(OLD), _outbox(OLD), _outbox(BETWEEN), _outbox(RECENT), _outbox(None)]
        )
        for group in ("alert-engine", "dispatcher"):
            for at in (OLD, OLD, BETWEEN, RECENT):
                session.add(
                    ProcessedEvent(
                        consumer_group=group, event_id=str(uuid.uuid4()), processed_at=at
                    )
                )
        for n, at in enumerate((OLD, BETWEEN, RECENT)):
            session.add(ClosedReport(report_id=f"closed-{n}", closed_at=at))
            session.add(EarlyRenewal(report_id=f"renewed-{n}", expires_at=NOW, renewed_at=at))
            session.add(EarlyChange(report_id=f"sighted-{n}", handled_at=at, sighting=_sighting(n)))
            # An alert that ended long ago, and one that ended an hour ago.
            session.add(KnownAlert(alert_id=f"alert-{n}", sequence=2, event=None, expires=at))
        session.add(partner)
        await session.flush()  # no ORM relationship orders the inserts: the partner first
        session.add_all([delivered, owed])
        await session.flush()
        for delivery, at in ((delivered, OLD), (delivered, RECENT), (owed, OLD)):
            session.add(DeliveryAttempt(delivery_id=delivery.id, at=at, latency_ms=1.0))

    assert components.housekeeper is not None
    deleted = await components.housekeeper.prune_once()
    assert deleted == {
        "outbox": 3,
        "processed_events:alert-engine": 2,
        "closed_reports": 1,
        "early_renewals": 1,
        "early_changes": 1,
        "processed_events:dispatcher": 2,
        "delivery_attempts": 1,
        "known_alerts": 1,
    }
    async with components.sessions() as session:
        outbox = (await session.scalars(select(OutboxEvent.published_at))).all()
        assert sorted(outbox, key=str) == sorted([RECENT, None], key=str)  # unpublished stays
        # Consumers remember what they handled a day longer than the outbox keeps it.
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 4
        # A case closed recently is still remembered: its events may still be sent again.
        closed = await session.scalars(select(ClosedReport.report_id))
        assert sorted(closed) == ["closed-1", "closed-2"]
        renewed = await session.scalars(select(EarlyRenewal.report_id))
        assert sorted(renewed) == ["renewed-1", "renewed-2"]
        changed = await session.scalars(select(EarlyChange.report_id))
        assert sorted(changed) == ["sighted-1", "sighted-2"]
        # So is an alert that ended recently: a late, older version of it must not come back.
        assert sorted(await session.scalars(select(KnownAlert.alert_id))) == ["alert-1", "alert-2"]
        attempts = (await session.execute(select(DeliveryAttempt.delivery_id))).scalars().all()
        # A delivery still owed keeps its whole history.
        assert sorted(attempts) == sorted([delivered.id, owed.id])
    # Nothing left to do: a second pass (or a second process) deletes nothing.
    assert set((await components.housekeeper.prune_once()).values()) == {0}
