"""Alert use cases: issue, re-centre, cancel. Run inside the consumer's transaction; every new
version is stored and staged in the outbox together, so partners get exactly what is stored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alert_engine.composer import (
    CaseState,
    Presentation,
    area_of,
    cap_reference,
    compose,
    zone_at,
)
from alert_engine.metrics import VERSIONS
from alert_engine.models import Alert, AlertVersion
from alert_engine.texts import CaseFacts
from alert_engine.zones import ZonePolicy, radius_km
from shared.alert_contract import AlertMessage, MsgType, Point, PublicChild
from shared.events import (
    AlertCancelled,
    AlertEvent,
    AlertEventData,
    AlertExpired,
    AlertIssued,
    AlertUpdated,
    ReportApprovedData,
    ReportRenewedData,
    SightingAddedData,
)
from shared.outbox import add_event

SOURCE = "tifli/alert-engine"
log = logging.getLogger(__name__)
_EVENT_FOR: dict[MsgType, type[AlertIssued | AlertUpdated | AlertCancelled]] = {
    "Alert": AlertIssued,
    "Update": AlertUpdated,
    "Cancel": AlertCancelled,
}


@dataclass(frozen=True)
class EngineConfig:
    policy: ZonePolicy
    presentation: Presentation
    ttl: timedelta
    widen_interval: timedelta = timedelta(hours=1)
    widen_min_growth: float = 0.2  # area growth that justifies an Update


class AlertService:
    def __init__(self, session: AsyncSession, config: EngineConfig, now: datetime) -> None:
        self._session = session
        self._config = config
        self._now = now

    async def issue(self, approved: ReportApprovedData) -> AlertMessage | None:
        if await self._session.get(Alert, approved.alert_id) is not None:
            return None  # already issued: the approval was redelivered
        facts = CaseFacts(
            child=approved.child,
            place=approved.last_seen_place,
            last_seen=approved.last_seen_at,
            suspected_vehicle=approved.suspected_vehicle,
            companion=approved.companion,
        )
        alert = Alert(
            id=approved.alert_id,
            report_id=approved.report_id,
            state="active",
            message_status=approved.message_status,
            sequence=0,
            facts=json.dumps(
                {
                    "child": approved.child.model_dump(mode="json"),
                    "place": approved.last_seen_place,
                    "suspected_vehicle": approved.suspected_vehicle,
                    "companion": approved.companion,
                    "photo_urls": approved.photo_urls,
                },
                ensure_ascii=False,
            ),
            center_lat=approved.last_seen_point.lat,
            center_lon=approved.last_seen_point.lon,
            center_at=facts.last_seen,
            travel_mode=approved.travel_mode,
            radius_km=0.0,
            effective=self._now,
            expires=approved.expires_at or self._now + self._config.ttl,
            next_widen_at=self._now + self._config.widen_interval,
            updated_at=self._now,
        )
        self._session.add(alert)
        return await self._publish(alert, "Alert")

    async def recentre(self, sighting: SightingAddedData) -> AlertMessage | None:
        """A trusted sighting newer than the current centre moves the zone (brief §4)."""
        alert = await self._active_for(sighting.report_id)
        if alert is None or not sighting.trusted or sighting.seen_at <= alert.center_at:
            return None
        alert.center_lat, alert.center_lon = sighting.point.lat, sighting.point.lon
        alert.center_at = sighting.seen_at
        facts = json.loads(alert.facts)
        facts["place"] = sighting.place
        alert.facts = json.dumps(facts, ensure_ascii=False)
        return await self._publish(alert, "Update")

    async def renew(self, renewed: ReportRenewedData) -> AlertMessage | None:
        """The reviewer extended the time window: partners get the new ``expires`` now."""
        alert = await self._active_for(renewed.report_id)
        if alert is None:
            return await self._revive(renewed)
        if renewed.expires_at <= alert.expires:
            return None
        alert.expires = renewed.expires_at
        return await self._publish(alert, "Update")

    async def _revive(self, renewed: ReportRenewedData) -> AlertMessage | None:
        """A renewal accepted before the window closed, but handled after the expiry timer
        took the alert down: intake says the case runs on, so the alert must be live again."""
        alert = (
            await self._session.scalars(
                select(Alert)
                .where(Alert.report_id == renewed.report_id, Alert.state == "expired")
                .with_for_update()
            )
        ).one_or_none()
        if alert is None or renewed.renewed_at >= alert.expires:
            return None  # cancelled, or renewed too late: nothing to bring back
        alert.state, alert.expires = "active", renewed.expires_at
        alert.next_widen_at = self._now + self._config.widen_interval
        return await self._publish(alert, "Alert")

    async def on_timer(self, alert: Alert) -> AlertMessage | None:
        """Whatever is due for this (locked, active) alert: expiry first, else widening.

        After downtime a single pass catches up: one expiry, or one Update to the radius of
        *now* — never a burst of the widenings that were missed."""
        if self._now >= alert.expires:
            alert.state, alert.next_widen_at = "expired", None
            return await self._publish(alert, "Cancel", AlertExpired)
        if alert.next_widen_at is None or self._now < alert.next_widen_at:
            return None
        alert.next_widen_at = self._now + self._config.widen_interval
        grown = radius_km(self._config.policy, alert.travel_mode, alert.center_at, self._now)  # type: ignore[arg-type]
        if (grown / alert.radius_km) ** 2 - 1 <= self._config.widen_min_growth:
            return None  # not enough new ground to be worth a message
        return await self._publish(alert, "Update")

    async def cancel(self, report_id: str) -> AlertMessage | None:
        alert = await self._active_for(report_id)
        if alert is None:
            return None  # never approved, or already over: nothing is on partners' screens
        alert.state, alert.next_widen_at = "cancelled", None
        return await self._publish(alert, "Cancel")

    async def _active_for(self, report_id: str) -> Alert | None:
        return (
            await self._session.scalars(
                select(Alert)
                .where(Alert.report_id == report_id, Alert.state == "active")
                .with_for_update()
            )
        ).one_or_none()

    async def _publish(
        self, alert: Alert, msg_type: MsgType, event: type[AlertEvent] | None = None
    ) -> AlertMessage:
        previous = (
            await self._session.scalars(
                select(AlertVersion)
                .where(AlertVersion.alert_id == alert.id)
                .order_by(AlertVersion.sequence)
            )
        ).all()
        sender = self._config.presentation.sender
        case = case_state(alert)
        if msg_type == "Cancel" and previous:
            # A take-down names the area partners are showing: no new zone to compute, so
            # the Cancel leaves at once.
            area = AlertMessage.model_validate_json(previous[-1].payload).area
        else:
            zone = zone_at(case, self._config.policy, self._now)
            alert.radius_km = zone.radius_km
            area = area_of(zone, case.facts.place, self._config.policy)
        alert.sequence += 1
        alert.updated_at = self._now
        message = compose(
            case,
            area=area,
            sequence=alert.sequence,
            msg_type=msg_type,
            references=[cap_reference(sender, v.identifier, v.sent) for v in previous],
            sent=self._now,
            presentation=self._config.presentation,
        )
        self._session.add(
            AlertVersion(
                alert_id=alert.id,
                sequence=message.sequence,
                msg_type=msg_type,
                identifier=message.identifier,
                sent=message.sent,
                payload=message.model_dump_json(),
            )
        )
        VERSIONS.labels(msg_type).inc()
        log.info(
            "alert version staged",
            extra={
                "alert_id": alert.id,
                "sequence": message.sequence,
                "msg_type": msg_type,
                "radius_km": round(alert.radius_km, 1),
                "vertices": message.area.vertex_count,
            },
        )
        await add_event(
            self._session,
            (event or _EVENT_FOR[msg_type])(
                source=SOURCE, subject=alert.id, time=self._now, data=AlertEventData(alert=message)
            ),
        )
        return message


def case_state(alert: Alert) -> CaseState:
    facts = json.loads(alert.facts)
    return CaseState(
        alert_id=alert.id,
        report_id=alert.report_id,
        message_status=alert.message_status,  # type: ignore[arg-type]
        facts=CaseFacts(
            child=PublicChild.model_validate(facts["child"]),
            place=facts["place"],
            last_seen=alert.center_at,
            suspected_vehicle=facts["suspected_vehicle"],
            companion=facts["companion"],
        ),
        photo_urls=facts["photo_urls"],
        center=Point(lat=alert.center_lat, lon=alert.center_lon),
        center_at=alert.center_at,
        travel_mode=alert.travel_mode,  # type: ignore[arg-type]
        effective=alert.effective,
        expires=alert.expires,
    )
