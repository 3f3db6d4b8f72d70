"""Partners: registration with the handshake's outcome, secret rotation, disabling, listing.

Like the other services, these run in the caller's transaction and never commit.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.address_guard import check_target
from dispatcher.catch_up import bring_forward, owed_again
from dispatcher.live_alerts import catch_up, hold_planning
from dispatcher.models import Partner
from dispatcher.pauses import pause_of
from dispatcher.schemas import (
    PartnerIn,
    PartnerOut,
    PartnerPage,
    PartnerPatch,
    PartnerWithSecret,
    area_only,
    patch_applied,
)
from dispatcher.signing import new_secret
from shared.loading import load_or_404
from shared.paging import page_rows
from shared.problems import Problem, field_problem
from shared.sealing import Sealer


def endpoint_of(url: str) -> str:
    """The endpoint a webhook URL names, whatever the spelling: the scheme and host in lower
    case, no default port, no fragment (never sent), no empty query. A trailing slash stays:
    it may name another resource."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url  # not one an endpoint passing the checks has: compared as it is
    named = str(parsed.copy_with(fragment=None))
    return named[:-1] if named.endswith("?") and not parsed.query else named


def partner_out(partner: Partner, now: datetime) -> PartnerOut:
    """The partner as the API shows it at ``now``: no secret, no verification token."""
    paused = pause_of(partner, now)
    return PartnerOut(
        id=partner.id,
        name=partner.name,
        url=partner.url,
        languages=partner.languages.split(),
        coverage=area_only(json.loads(partner.coverage)) if partner.coverage else None,
        status=partner.status,
        status_reason=partner.status_reason,
        created_at=partner.created_at,
        verified_at=partner.verified_at,
        secret_rotation_ends=partner.previous_secret_until,
        paused_until=paused.until if paused else None,
        paused_by=paused.status if paused else None,
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

    async def refuse_registered_url(self, url: str, other_than: str | None = None) -> None:
        """A 409 (naming ``url``) if another partner has this endpoint, even a disabled one: the
        alerts that endpoint shows were sent under that partner, and so are their take-downs.
        Registered twice, an endpoint would receive each alert twice, and the new registration
        never the Cancel of an alert the old one put up (it waits for that one to be verified
        again)."""
        # Compared as the endpoint they name, not as typed (partners are a few platforms: all
        # of them are read). Under the planning lock, taken alone: two registrations of one
        # endpoint at once do not both find it free.
        await hold_planning(self._session)
        wanted = endpoint_of(url)
        query = select(Partner.id, Partner.status, Partner.url).order_by(Partner.created_at)
        taken = next(
            (
                (partner_id, status)
                for partner_id, status, stored in (await self._session.execute(query)).all()
                if partner_id != other_than and endpoint_of(stored) == wanted
            ),
            None,
        )
        if taken is not None:
            partner_id, status = taken
            # Said for the act asked: a correction moving a partner onto another's endpoint
            # registers nothing.
            instead = "registering it twice" if other_than is None else "moving this one onto it"
            why = (
                f"this endpoint is already partner {partner_id} ({status}): verify that one "
                f"again (POST /v1/partners/{partner_id}/verify) or correct it, rather than "
                f"{instead}"
            )
            raise Problem(409, "Conflict", f"url: {why}", errors=[{"field": "url", "message": why}])

    async def register(self, body: PartnerIn, handshake_failure: str | None) -> PartnerWithSecret:
        """A new partner with a fresh signing secret (shown this once), active if the handshake
        succeeded."""
        await self.refuse_registered_url(body.url)  # again: one may have come meanwhile
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
        if handshake_failure is None:
            await catch_up(self._session, partner, self._now)
        return PartnerWithSecret(**partner_out(partner, self._now).model_dump(), secret=secret)

    async def record_handshake(
        self, partner_id: str, failure: str | None, *, cancel_retry: timedelta
    ) -> PartnerOut:
        """The outcome of a handshake run again: the partner becomes active, or stays unverified
        with why. ``cancel_retry``: how long a take-down that died meanwhile is tried anew."""
        if failure is None:
            await hold_planning(self._session)  # first: before this writes anything
        partner = await self.load(partner_id)
        self._record_handshake(partner, failure)
        if failure is None:
            # Back from being disabled or unverified: what it is owed goes now, what died
            # while it was gone (its take-downs above all) included, and the alerts up that
            # it never had (issued while it was away) are sent.
            await owed_again(self._session, partner.id, self._now, cancel_retry)
            await bring_forward(self._session, partner.id, self._now)
            await catch_up(self._session, partner, self._now)
        return partner_out(partner, self._now)

    async def registration(self, partner_id: str, *, for_update: bool = False) -> PartnerIn:
        """The partner's registration as it stands, its verification token included: what a
        correction (``PartnerPatch``) applies to."""
        partner = await load_or_404(
            self._session, Partner, partner_id, "partner", for_update=for_update
        )
        return PartnerIn(
            name=partner.name,
            url=partner.url,
            verify_token=self.verify_token(partner),
            languages=partner.languages.split(),
            coverage=area_only(json.loads(partner.coverage)) if partner.coverage else None,
        )

    async def correct(
        self,
        partner_id: str,
        patch: PartnerPatch,
        verified: tuple[str, str] | None,
        *,
        cancel_retry: timedelta,
    ) -> PartnerOut:
        """``patch`` applied to the registration as it stands now (locked: two corrections
        made at once both count). ``verified``: the (url, token) whose endpoint has just
        passed Meta's handshake; the corrected endpoint must be the stored one or that one
        (409 if another correction changed it meanwhile). On a new endpoint, what waits for
        the partner goes at once, and an unverified partner becomes active (a disabled one
        stays disabled, the operator's decision). An active partner is sent the alerts up
        that now meet its coverage and that it never had."""
        await hold_planning(self._session)  # first: before this writes anything
        current = await self.registration(partner_id, for_update=True)
        corrected = patch_applied(patch, current)
        endpoint = (corrected.url, corrected.verify_token)
        new_endpoint = endpoint != (current.url, current.verify_token)
        if new_endpoint and endpoint != verified:
            raise Problem(
                409,
                "Conflict",
                "The partner's endpoint was changed by another correction meanwhile: read it "
                "again, and send this one again if it still applies.",
            )
        if corrected.url != current.url:
            await self.refuse_registered_url(corrected.url, other_than=partner_id)
        partner = await self.load(partner_id)
        partner.name, partner.url = corrected.name, corrected.url
        partner.verify_token = self._sealer.seal_text(corrected.verify_token)
        partner.languages = " ".join(corrected.languages)
        partner.coverage = json.dumps(corrected.coverage) if corrected.coverage else None
        if new_endpoint and partner.status != "disabled":
            self._record_handshake(partner, None)
            # As after a handshake passed again: what died on the old endpoint is owed anew,
            # and what waits out a back-off goes now.
            await owed_again(self._session, partner.id, self._now, cancel_retry)
            await bring_forward(self._session, partner.id, self._now)
        if partner.status == "active":
            await catch_up(self._session, partner, self._now)
        return partner_out(partner, self._now)

    async def answered_test(self, partner_id: str) -> None:
        """The partner accepted a test event: it answers again, so what waits out a back-off
        for it goes now, as after an accepted delivery."""
        await bring_forward(self._session, partner_id, self._now)

    async def disable(self, partner_id: str, reason: str) -> PartnerOut:
        """Stops every delivery to the partner, with the operator's reason."""
        partner = await self.load(partner_id)
        partner.status, partner.status_reason = "disabled", reason
        return partner_out(partner, self._now)

    async def rotate_secret(self, partner_id: str, overlap: timedelta) -> PartnerWithSecret:
        """A new signing secret (shown this once); the old one still signs until ``now + overlap``,
        so the partner can switch without a gap."""
        partner = await self.load(partner_id)
        ends = partner.previous_secret_until
        if overlap > timedelta(0) and ends is not None and self._now < ends:
            # Only two secrets sign. Rotating again now would end the first overlap before
            # the time the partner was given, and its deliveries would fail verification.
            raise Problem(
                409,
                "Conflict",
                f"A rotation is under way: the previous secret signs until {ends.isoformat()}. "
                "Rotate again after that, or with overlap_hours 0 to end every older secret now "
                "(a leaked secret).",
            )
        secret = new_secret()
        if overlap > timedelta(0):
            partner.previous_secret = partner.secret
            partner.previous_secret_until = self._now + overlap
        else:
            # A leaked secret ends now: none of the older ones is kept, nor an overlap shown.
            partner.previous_secret = partner.previous_secret_until = None
        partner.secret = self._sealer.seal_text(secret)
        return PartnerWithSecret(**partner_out(partner, self._now).model_dump(), secret=secret)

    def verify_token(self, partner: Partner) -> str:
        """The token the partner chose for Meta's handshake, unsealed to send it."""
        return self._sealer.unseal_text(partner.verify_token)

    async def all(self) -> list[PartnerOut]:
        """Every partner, in registration order."""
        rows = (await self._session.scalars(select(Partner).order_by(Partner.created_at))).all()
        return [partner_out(p, self._now) for p in rows]

    async def page(self, *, limit: int, offset: int) -> PartnerPage:
        """Partners in registration order (the id breaks ties), like every other list."""
        query = select(Partner).order_by(Partner.created_at, Partner.id)
        rows, next_offset = await page_rows(self._session, query, limit, offset)
        return PartnerPage(items=[partner_out(p, self._now) for p in rows], next_offset=next_offset)

    async def read(self, partner_id: str) -> PartnerOut:
        """The partner as the API shows it, or a 404 problem."""
        return partner_out(await self.load(partner_id), self._now)

    async def load(self, partner_id: str) -> Partner:
        """The partner, or a 404 problem."""
        return await load_or_404(self._session, Partner, partner_id, "partner")

    def _record_handshake(self, partner: Partner, failure: str | None) -> None:
        # Nothing is sent to an endpoint that has not proven it is the partner's: a mistyped
        # or hostile URL must never receive alerts.
        if failure is None:
            partner.status, partner.status_reason, partner.verified_at = "active", None, self._now
        else:
            partner.status, partner.status_reason = "unverified", failure
