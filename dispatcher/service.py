"""Dispatcher use cases: partners, and deliveries derived from alert events.

Like the other services, these run in the caller's transaction and never commit.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.address_guard import check_target
from dispatcher.fanout import covers, replaces, webhook_body, webhook_id_for
from dispatcher.models import Delivery, DeliveryAttempt, Partner
from dispatcher.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    PartnerIn,
    PartnerOut,
    PartnerPage,
    PartnerWithSecret,
)
from dispatcher.signing import new_secret
from shared.events import AlertEvent
from shared.problems import Problem, field_problem
from shared.sealing import Sealer


def partner_out(partner: Partner) -> PartnerOut:
    return PartnerOut(
        id=partner.id,
        name=partner.name,
        url=partner.url,
        languages=partner.languages.split(),
        coverage=json.loads(partner.coverage) if partner.coverage else None,
        status=partner.status,
        status_reason=partner.status_reason,
        created_at=partner.created_at,
        verified_at=partner.verified_at,
        secret_rotation_ends=partner.previous_secret_until,
    )


class PartnerService:
    """The handshake is an HTTP call of up to the webhook time-out: callers make it with
    ``handshake`` *outside* any transaction, then record its outcome, so no database lock is
    held while a partner's server thinks."""

    def __init__(self, session: AsyncSession, now: datetime, sealer: Sealer) -> None:
        self._session = session
        self._now = now
        self._sealer = sealer

    @staticmethod
    async def check(body: PartnerIn, *, allow_private: bool) -> None:
        """Refuses (422 naming ``url``) a target that is malformed, does not resolve, or is
        not public: before the handshake, so that no request goes to such an address."""
        reason = await check_target(body.url, allow_private=allow_private)
        if reason:
            raise field_problem("url", reason)

    async def register(self, body: PartnerIn, handshake_failure: str | None) -> PartnerWithSecret:
        partner = Partner(
            id=str(uuid.uuid4()),
            name=body.name,
            url=body.url,
            languages=" ".join(body.languages),
            coverage=json.dumps(body.coverage) if body.coverage else None,
            status="unverified",
            verify_token=self._sealer.seal_text(body.verify_token),
            secret=self._sealer.seal_text(secret := new_secret()),
            created_at=self._now,
        )
        self._record_handshake(partner, handshake_failure)
        self._session.add(partner)
        return PartnerWithSecret(**partner_out(partner).model_dump(), secret=secret)

    async def record_handshake(self, partner_id: str, failure: str | None) -> PartnerOut:
        partner = await self.load(partner_id)
        self._record_handshake(partner, failure)
        return partner_out(partner)

    async def disable(self, partner_id: str, reason: str) -> PartnerOut:
        partner = await self.load(partner_id)
        partner.status, partner.status_reason = "disabled", reason
        return partner_out(partner)

    async def rotate_secret(self, partner_id: str, overlap: timedelta) -> PartnerWithSecret:
        partner = await self.load(partner_id)
        secret = new_secret()
        partner.previous_secret, partner.secret = partner.secret, self._sealer.seal_text(secret)
        partner.previous_secret_until = self._now + overlap
        return PartnerWithSecret(**partner_out(partner).model_dump(), secret=secret)

    def verify_token(self, partner: Partner) -> str:
        return self._sealer.unseal_text(partner.verify_token)

    async def all(self) -> list[PartnerOut]:
        rows = (await self._session.scalars(select(Partner).order_by(Partner.created_at))).all()
        return [partner_out(p) for p in rows]

    async def page(self, *, limit: int, offset: int) -> PartnerPage:
        """Partners in registration order (the id breaks ties), like every other list."""
        query = select(Partner).order_by(Partner.created_at, Partner.id)
        rows = (await self._session.scalars(query.limit(limit + 1).offset(offset))).all()
        return PartnerPage(
            items=[partner_out(p) for p in rows[:limit]],
            next_offset=offset + limit if len(rows) > limit else None,
        )

    async def load(self, partner_id: str) -> Partner:
        partner = await self._session.get(Partner, partner_id)
        if partner is None:
            raise Problem(404, "Not found", f"No partner {partner_id}.")
        return partner

    def _record_handshake(self, partner: Partner, failure: str | None) -> None:
        # Nothing is sent to an endpoint that has not proven it is the partner's: a mistyped or
        # hijacked URL must not receive alerts about a child.
        if failure is None:
            partner.status, partner.status_reason, partner.verified_at = "active", None, self._now
        else:
            partner.status, partner.status_reason = "unverified", failure


def signing_secrets(partner: Partner, now: datetime, sealer: Sealer) -> list[str]:
    """The secrets that sign now, newest first, opened."""
    sealed = [partner.secret]
    if (
        partner.previous_secret
        and partner.previous_secret_until
        and now < partner.previous_secret_until
    ):
        sealed.append(partner.previous_secret)
    return [sealer.unseal_text(s) for s in sealed]


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
    partners = (await session.scalars(select(Partner).where(Partner.status == "active"))).all()
    informed = set(
        await session.scalars(
            select(Delivery.partner_id).where(Delivery.alert_id == alert.alert_id).distinct()
        )
    )
    planned: list[tuple[Delivery, Partner]] = []
    for partner in partners:
        # A partner that has the alert follows it to the end, even if the zone moves out
        # of its coverage; a Cancel goes to exactly those partners.
        if not (partner.id in informed or (not cancelling and covers(partner.coverage, alert))):
            continue
        # A partner reached for the first time by an Update (the zone grew into its
        # coverage) gets it as a new alert: it never sees an Update before its Alert.
        event_type = event.type if partner.id in informed else "alert.issued"
        if alert.sequence > 1:
            waiting = await session.scalars(
                select(Delivery).where(
                    Delivery.alert_id == alert.alert_id,
                    Delivery.partner_id == partner.id,
                    Delivery.sequence < alert.sequence,
                    Delivery.status == "pending",
                )
            )
            for older in waiting:
                if replaces(event.type, older.event_type):
                    older.status = "superseded"
        webhook_id = webhook_id_for(event.id, partner.id)
        delivery = Delivery(
            id=str(uuid.uuid4()),
            webhook_id=webhook_id,
            partner_id=partner.id,
            alert_id=alert.alert_id,
            sequence=alert.sequence,
            event_type=event_type,
            payload=webhook_body(
                event_type,
                webhook_id,
                alert,
                partner.languages.split(),
                f"{public_base_url}/v1/alerts/{alert.alert_id}/cap",
            ).decode(),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            # Never past the alert's expiry — except a Cancel, which must get through.
            deadline=now + cancel_retry if cancelling else alert.expires,
            created_at=now,
        )
        session.add(delivery)
        planned.append((delivery, partner))
    return planned


async def _has_newer(session: AsyncSession, delivery: Delivery) -> bool:
    newer = await session.scalar(
        select(Delivery.id)
        .where(
            Delivery.alert_id == delivery.alert_id,
            Delivery.partner_id == delivery.partner_id,
            Delivery.sequence > delivery.sequence,
            Delivery.status != "superseded",
        )
        .limit(1)
    )
    return newer is not None


class DeliveryService:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def page(
        self,
        *,
        alert_id: str | None,
        partner_id: str | None,
        status: DeliveryStatus | None,
        limit: int,
        offset: int,
    ) -> DeliveryPage:
        query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id)
        if alert_id:
            query = query.where(Delivery.alert_id == alert_id)
        if partner_id:
            query = query.where(Delivery.partner_id == partner_id)
        if status:
            query = query.where(Delivery.status == status)
        rows = (await self._session.scalars(query.limit(limit + 1).offset(offset))).all()
        return DeliveryPage(
            items=[await self._out(d) for d in rows[:limit]],
            next_offset=offset + limit if len(rows) > limit else None,
        )

    async def get(self, delivery_id: str) -> DeliveryOut:
        return await self._out(await self._load(delivery_id))

    async def replay(self, delivery_id: str, cancel_retry: timedelta) -> DeliveryOut:
        delivery = await self._load(delivery_id, for_update=True)
        if delivery.status in ("pending", "sending"):
            raise Problem(409, "Conflict", "This delivery is still in progress.")
        if delivery.status == "superseded" or await _has_newer(self._session, delivery):
            # Re-sending an older version would show partners a stale or taken-down alert.
            raise Problem(409, "Conflict", "A newer version of this alert replaces this one.")
        if delivery.event_type == "alert.cancelled":
            delivery.deadline = max(delivery.deadline, self._now + cancel_retry)
        elif self._now >= delivery.deadline:
            raise Problem(409, "Conflict", "The alert has expired; only a Cancel is replayed now.")
        delivery.status, delivery.next_attempt_at, delivery.lease_until = "pending", self._now, None
        return await self._out(delivery)

    async def _load(self, delivery_id: str, *, for_update: bool = False) -> Delivery:
        query = select(Delivery).where(Delivery.id == delivery_id)
        if for_update:
            query = query.with_for_update()
        delivery = (await self._session.scalars(query)).one_or_none()
        if delivery is None:
            raise Problem(404, "Not found", f"No delivery {delivery_id}.")
        return delivery

    async def _out(self, d: Delivery) -> DeliveryOut:
        attempts = (
            await self._session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == d.id)
                .order_by(DeliveryAttempt.id)
            )
        ).all()
        return DeliveryOut(
            id=d.id,
            webhook_id=d.webhook_id,
            partner_id=d.partner_id,
            alert_id=d.alert_id,
            sequence=d.sequence,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            deadline=d.deadline,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            attempt_log=[
                AttemptOut(
                    at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error
                )
                for a in attempts
            ],
        )
