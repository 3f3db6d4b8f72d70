"""Intake use cases. Each runs inside the caller's transaction and never commits: the route
owns the transaction, so a state change, its audit entry and its outbox event commit together.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from intake_api import SOURCE, access, lifecycle, retention
from intake_api.case_versions import case_version, matches
from intake_api.criteria import unmet_criteria
from intake_api.gazetteer import Gazetteer, load_gazetteer
from intake_api.merge_patch import merge_patch
from intake_api.metrics import CASE_ACTIONS
from intake_api.models import AuditEntry, IdempotencyRecord, Report, Sighting
from intake_api.places import public_place, resolve_place
from intake_api.schemas import (
    ApproveIn,
    Criteria,
    DestinationIn,
    LastSeenIn,
    RenewIn,
    ReportIn,
    ReportOut,
    ReportPage,
    ReportStatus,
    SightingIn,
    SightingOut,
)
from intake_api.sealing import merge_restricted, split_restricted
from intake_api.service_area import ServiceArea
from shared.alert_contract import Language, Point, PublicChild
from shared.auth import Principal, Unit
from shared.clock import as_utc
from shared.events import (
    CARRIED_SIGHTINGS,
    ReportApproved,
    ReportApprovedData,
    ReportCancelled,
    ReportClosedData,
    ReportCorrected,
    ReportCorrectedData,
    ReportEvent,
    ReportRejected,
    ReportRejectedData,
    ReportRenewed,
    ReportRenewedData,
    ReportResolved,
    ReportSubmitted,
    ReportSubmittedData,
    SightingAdded,
    SightingAddedData,
    ZoneInputs,
)
from shared.input_types import STORED
from shared.outbox import add_event
from shared.paging import page_newest_first
from shared.problems import (
    Problem,
    field_problem,
    invalid_body,
    not_found,
    validation_problem,
)
from shared.sealing import Sealer
from shared.settings import DEFAULT_SERVICE_AREA

log = logging.getLogger(__name__)
# Alert ids derive from report ids: a redelivered approval can only ever mean one alert.
_ALERT_NAMESPACE = uuid.UUID("6f1d7c1e-3b7a-4d51-9a53-7f3b1e0c2a10")
_Where = TypeVar("_Where", LastSeenIn, SightingIn)
_Answer = TypeVar("_Answer", ReportOut, SightingOut)  # what an idempotent request answers
_Place = TypeVar("_Place", LastSeenIn, SightingIn, DestinationIn)


def alert_id_for(report_id: str) -> str:
    """The alert's id, derived from the report's: the same approval handled twice names the same
    alert."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, report_id))


def request_fingerprint(body: ReportIn) -> str:
    """A hash of the submitted body: an Idempotency-Key reused with another body is told apart."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def sighting_fingerprint(report_id: str, body: SightingIn) -> str:
    """``request_fingerprint`` of a sighting's POST: its case and its body (a key reused on
    another case, or for a report, is another request)."""
    return hashlib.sha256(f"sighting {report_id} {body.model_dump_json()}".encode()).hexdigest()


class ReportService:
    def __init__(
        self,
        session: AsyncSession,
        sealer: Sealer,
        now: datetime,
        gazetteer: Callable[[], Gazetteer] = load_gazetteer,
        *,
        default_ttl: timedelta = timedelta(hours=24),
        service_area: ServiceArea = ServiceArea.of(DEFAULT_SERVICE_AREA),
        sighting_horizon: timedelta = timedelta(hours=3),
        timezone: tzinfo = UTC,
    ) -> None:
        self._session = session
        # Where the alert's people live (TIFLI_ALERT_TIMEZONE): a child turns 18 at midnight
        # there, an hour before the UTC date changes in Morocco.
        self._timezone = timezone
        # How much older than the newest trusted location a sighting may be and still count
        # in the zone (the engine's setting, TIFLI_ZONE_SIGHTING_HORIZON_HOURS).
        self._sighting_horizon = sighting_horizon
        self._sealer = sealer
        self._now = now
        self._default_ttl = default_ttl
        self._service_area = service_area
        # Called only when a place name must be geocoded; the default is loaded once per process.
        self._gazetteer = gazetteer

    def _today(self) -> date:
        """Today's date where the alert's people live."""
        return self._now.astimezone(self._timezone).date()

    # --- reads -----------------------------------------------------------------------------

    async def get(self, principal: Principal, report_id: str) -> ReportOut:
        return self.to_out(await self._load(principal, "read", report_id))

    async def page(
        self,
        principal: Principal,
        status: ReportStatus | None,
        limit: int,
        offset: int,
        cursor: str | None = None,
    ) -> ReportPage:
        query = select(Report).order_by(Report.created_at.desc(), Report.id)
        if not principal.national:
            # A unit key lists its own unit's cases only (see access.sees).
            query = query.where(Report.unit == principal.unit)
        if status == "expired":
            query = query.where(Report.status == "approved", Report.expires_at <= self._now)
        elif status == "approved":
            query = query.where(Report.status == "approved", Report.expires_at > self._now)
        elif status is not None:
            query = query.where(Report.status == status)
        page = await page_newest_first(
            self._session,
            query,
            Report.created_at,
            Report.id,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )
        return ReportPage(
            items=[self.to_out(r) for r in page.rows],
            next_offset=page.next_offset,
            next_cursor=page.next_cursor,
        )

    # --- writes ----------------------------------------------------------------------------

    async def submit(
        self, principal: Principal, body: ReportIn, idempotency_key: str | None
    ) -> tuple[ReportOut, bool]:
        """Returns the report and whether it was created now (False: an idempotent replay)."""
        fingerprint = request_fingerprint(body)
        if idempotency_key is None:
            return await self._create(principal, body, fingerprint, None), True
        key = idempotency_key
        return await self._once(
            lambda: self._replay(principal, key, fingerprint),
            lambda: self._create(principal, body, fingerprint, key),
        )

    async def _once(
        self,
        replay: Callable[[], Awaitable[_Answer | None]],
        act: Callable[[], Awaitable[_Answer]],
    ) -> tuple[_Answer, bool]:
        """What a request under an Idempotency-Key answers, and whether it acted now: the
        earlier answer (``replay``), else ``act``, which records the key. In a savepoint: if
        a concurrent request with the key commits first (its record clashes), only this
        attempt is undone, and the transaction goes on to answer as that one did."""
        replayed = await replay()
        if replayed is not None:
            return replayed, False
        try:
            async with self._session.begin_nested():
                return await act(), True
        except IntegrityError:
            replayed = await replay()
            if replayed is None:
                raise
            return replayed, False

    async def _replay(
        self, principal: Principal, idempotency_key: str, fingerprint: str
    ) -> ReportOut | None:
        """The report an earlier request with this key created (None: there was none); a 409
        if that request had another body."""
        previous = await self._previous(principal, idempotency_key, fingerprint)
        if previous is None:
            return None
        # The case as it stands now: its contents only to a key that may read cases (a replay
        # is no way round that scope, as an act is not).
        return self._answer(principal, await self._load(principal, "read", previous.report_id))

    def _remember(
        self,
        principal: Principal,
        idempotency_key: str,
        fingerprint: str,
        report_id: str,
        sighting_id: str | None = None,
    ) -> None:
        """Records what a request under ``idempotency_key`` did (a report filed, or a sighting
        added to one), for its retries (``_previous``)."""
        self._session.add(
            IdempotencyRecord(
                key_id=principal.key_id,
                idempotency_key=idempotency_key,
                request_hash=fingerprint,
                report_id=report_id,
                sighting_id=sighting_id,
                created_at=self._now,
            )
        )

    async def _previous(
        self, principal: Principal, idempotency_key: str, fingerprint: str
    ) -> IdempotencyRecord | None:
        """The record of an earlier request with this key (None: there was none); a 409 if
        that request was another (another body, another case, a report for a sighting)."""
        previous = await self._session.get(IdempotencyRecord, (principal.key_id, idempotency_key))
        if previous is None:
            return None
        if previous.request_hash == IdempotencyRecord.ERASED:
            # The hash went with the case's personal data: nothing to tell a retry from
            # another request by. The case is named, as below; nothing is filed again.
            raise Problem(
                409,
                "Idempotency-Key reused",
                "This Idempotency-Key was used for a case whose personal data was erased "
                "since: this request cannot be compared with it.",
                errors=[{"field": "header.Idempotency-Key", "message": "used for an erased case"}],
                report_id=previous.report_id,
            )
        if previous.request_hash != fingerprint:
            # The report the key filed is named: a client whose first answer was lost, and
            # which sent the case again corrected, learns that it was filed, and where.
            raise Problem(
                409,
                "Idempotency-Key reused",
                "This Idempotency-Key was used with a different request body.",
                errors=[
                    {"field": "header.Idempotency-Key", "message": "already used with another body"}
                ],
                report_id=previous.report_id,
            )
        return previous

    async def _create(
        self,
        principal: Principal,
        body: ReportIn,
        fingerprint: str,
        idempotency_key: str | None,
    ) -> ReportOut:
        unit = await self._case_unit(principal, body.submitted_by.unit)
        # The replay check above compares bodies as sent; what is stored carries the point
        # and the unit the case belongs to.
        body = body.model_copy(
            update={
                "last_seen": self._located(body.last_seen, "last_seen."),
                "submitted_by": body.submitted_by.model_copy(update={"unit": unit}),
            }
        )
        report_id = str(uuid.uuid4())
        public, restricted = split_restricted(body.model_dump(mode="json"))
        report = Report(
            id=report_id,
            status="submitted",
            message_status=body.message_status,
            created_at=self._now,
            updated_at=self._now,
            submitted_by_key=principal.key_id,
            unit=unit,
            public_data=json.dumps(public, ensure_ascii=False),
            sealed_data=self._sealer.seal(restricted),
        )
        self._session.add(report)
        if idempotency_key is not None:
            self._remember(principal, idempotency_key, fingerprint, report_id)
        data = ReportSubmittedData(
            report_id=report_id, message_status=body.message_status, zone=_zone_inputs(body)
        )
        await self._record(
            principal, report, "submit", ReportSubmitted(**self._about(report), data=data)
        )
        # The content is at hand: no need to decrypt what was just encrypted.
        return self.to_out(report, sightings=[], content=body)

    async def approve(
        self, principal: Principal, report_id: str, body: ApproveIn, if_match: str | None = None
    ) -> ReportOut:
        """``if_match``: the version of the case the reviewer approves (``If-Match``); a 412 if
        the case changed since, so that what goes out is what they reviewed."""
        report = await self._load(principal, "approve", report_id, for_update=True)
        new_status = self._transition(report, "approve")
        self._authorise(principal, "approve", report)
        _unchanged_since_read(report, if_match)
        content = self._content(report)
        unmet = unmet_criteria(content, body.criteria, self._today())
        if unmet:
            raise Problem(
                422,
                "Approval criteria not met",
                "; ".join(f"{f}: {why}" for f, why in unmet),
                errors=[{"field": f, "message": why} for f, why in unmet],
            )
        report.status = new_status
        report.reviewed_by_key = principal.key_id
        report.criteria = body.criteria.model_dump_json()
        report.alert_id = alert_id_for(report.id)
        report.expires_at = self._now + self._ttl(body.ttl_hours)
        event = ReportApproved(**self._about(report), data=self._approved_data(report, content))
        await self._record(principal, report, "approve", event)
        return self._answer(principal, report, content=content)

    async def correct(
        self,
        principal: Principal,
        report_id: str,
        patch: dict[str, Any],
        if_match: str | None = None,
    ) -> ReportOut:
        """The case's details corrected by a JSON merge patch (RFC 7396) while it is open:
        the whole corrected report is validated as a new one would be, and stored in its
        place. A patch that changes nothing records nothing.

        Once the alert is out: what the zone is drawn from (where, when and how the child
        was last seen travelling) is not corrected (a sighting says where the child was seen
        since); the report must still meet the criteria it was approved on (consent
        withdrawn: the alert is cancelled, not corrected); and a change of what partners
        show reaches the public, so it needs a reviewer who did not submit the case (four
        eyes), and goes out at once as an Update. ``if_match``: the version the corrector
        read (``If-Match``); a 412 if the case changed since (RFC 9110 §13.1.1: a server
        evaluates it before acting), so that no correction writes over one it did not see."""
        report = await self._load(principal, "correct", report_id, for_update=True)
        self._transition(report, "correct")
        _unchanged_since_read(report, if_match)
        published = report.status != "submitted"
        for fixed in (*_FIXED_FIELDS, *(_ZONE_FIELDS if published else ())):
            if fixed in patch:
                raise field_problem(fixed, _FIXED_WHY.get(fixed, _FIXED_WHY[""]))
        stored = self._content(report)
        content = self._corrected(report, stored, patch)
        if content == stored:
            return self._answer(principal, report, content=stored)
        shown = self._public_description(content) != self._public_description(stored)
        self._authorise(principal, "correct", report, shown=published and shown)
        if published:
            self._still_meets_its_criteria(report, content)
        public, restricted = split_restricted(content.model_dump(mode="json"))
        report.public_data = json.dumps(public, ensure_ascii=False)
        report.sealed_data = self._sealer.seal(restricted)
        moved = (content.last_seen, content.travel_mode) != (stored.last_seen, stored.travel_mode)
        if shown or moved:  # what the alert will say, or where it will be drawn
            report.wrote_content(principal.key_id)
        event = ReportCorrected(**self._about(report), data=self._corrected_data(report, content))
        await self._record(principal, report, "correct", event)
        return self._answer(principal, report, content=content)

    def _corrected(self, report: Report, stored: ReportIn, patch: dict[str, Any]) -> ReportIn:
        """The stored report with ``patch`` applied, validated, its last-seen place located;
        a 422 naming each field at fault."""
        located = _with_place_located(patch, stored.last_seen.place_name)
        try:
            corrected = merge_patch(stored.model_dump(mode="json"), located)
        except RecursionError:
            # The body guard refuses nesting past the parser's limit before this; merging a
            # patch just under it must not become a server error (no report nests deeply).
            raise invalid_body("nested too deeply") from None
        corrected["submitted_by"]["unit"] = None  # the case's unit stays its column's
        try:
            content = ReportIn.model_validate(corrected)
        except ValidationError as invalid:
            raise validation_problem(invalid.errors()) from None
        return content.model_copy(
            update={
                "last_seen": self._located(content.last_seen, "last_seen."),
                "submitted_by": content.submitted_by.model_copy(update={"unit": report.unit}),
            }
        )

    def _still_meets_its_criteria(self, report: Report, content: ReportIn) -> None:
        """A 422 if the corrected report no longer meets the criteria its alert was approved
        on: a live alert cannot be left without them."""
        approved_on = Criteria.model_validate_json(report.criteria) if report.criteria else None
        unmet = [] if approved_on is None else unmet_criteria(content, approved_on, self._today())
        if unmet:
            why = "the alert is out, and this correction would leave it without a criterion"
            raise Problem(
                422,
                "Approval criteria no longer met",
                f"{why}: "
                + "; ".join(f"{f}: {m}" for f, m in unmet)
                + ". If the guardian withdrew consent, a reviewer cancels the alert.",
                errors=[{"field": f, "message": m} for f, m in unmet],
            )

    async def renew(self, principal: Principal, report_id: str, body: RenewIn) -> ReportOut:
        """Extend an active alert's window before it ends: ``now + ttl``."""
        report = await self._load(principal, "renew", report_id, for_update=True)
        self._transition(report, "renew")
        self._authorise(principal, "renew", report)
        expires_at = self._now + self._ttl(body.ttl_hours)
        if report.expires_at is not None and expires_at <= report.expires_at:
            raise field_problem(
                "ttl_hours", "the new window would not end later than the current one"
            )
        report.expires_at = expires_at
        data = ReportRenewedData(report_id=report.id, renewed_at=self._now, expires_at=expires_at)
        await self._record(
            principal, report, "renew", ReportRenewed(**self._about(report), data=data)
        )
        return self._answer(principal, report)

    async def reject(self, principal: Principal, report_id: str, reason: str) -> ReportOut:
        report = await self._load(principal, "reject", report_id, for_update=True)
        new_status = self._transition(report, "reject")
        self._authorise(principal, "reject", report)
        report.status = new_status
        report.reviewed_by_key, report.status_reason = principal.key_id, self._seal_note(reason)
        # The reason stays in intake: it may describe the family or the case.
        data = ReportRejectedData(report_id=report.id)
        await self._record(
            principal, report, "reject", ReportRejected(**self._about(report), data=data)
        )
        return self._answer(principal, report)

    async def resolve(self, principal: Principal, report_id: str, note: str | None) -> ReportOut:
        report = await self._load(principal, "resolve", report_id, for_update=True)
        new_status = self._transition(report, "resolve")
        self._authorise(principal, "resolve", report)
        report.status = new_status
        report.status_reason = self._case_note(report, note)
        # The note is a case note (restricted): the event says only that the child was found.
        data = ReportClosedData(report_id=report.id, closed_at=self._now)
        await self._record(
            principal, report, "resolve", ReportResolved(**self._about(report), data=data)
        )
        return self._answer(principal, report)

    async def cancel(self, principal: Principal, report_id: str, reason: str) -> ReportOut:
        report = await self._load(principal, "cancel", report_id, for_update=True)
        new_status = self._transition(report, "cancel")
        self._authorise(principal, "cancel", report)
        # A reviewer cancelling a report that waits for review decides its review; a
        # submitter withdrawing its own is no review, nor is cancelling an alert that went
        # out (its review was the approval). The audit log names every act's key.
        if report.status == "submitted" and principal.key_id != report.submitted_by_key:
            report.reviewed_by_key = principal.key_id
        report.status = new_status
        report.status_reason = self._case_note(report, reason)
        data = ReportClosedData(report_id=report.id, closed_at=self._now)
        await self._record(
            principal, report, "cancel", ReportCancelled(**self._about(report), data=data)
        )
        return self._answer(principal, report)

    async def add_sighting(
        self,
        principal: Principal,
        report_id: str,
        body: SightingIn,
        idempotency_key: str | None = None,
    ) -> tuple[SightingOut, bool]:
        """The sighting, and whether it was added now (False: a retry with the same
        ``idempotency_key`` and body, answered with the sighting the first try added)."""
        if idempotency_key is None:
            return await self._add_sighting(principal, report_id, body), True
        fingerprint = sighting_fingerprint(report_id, body)
        key = idempotency_key

        async def add() -> SightingOut:
            added = await self._add_sighting(principal, report_id, body)
            self._remember(principal, key, fingerprint, report_id, added.id)
            return added

        return await self._once(lambda: self._sighting_replay(principal, key, fingerprint), add)

    async def _sighting_replay(
        self, principal: Principal, idempotency_key: str, fingerprint: str
    ) -> SightingOut | None:
        previous = await self._previous(principal, idempotency_key, fingerprint)
        if previous is None or previous.sighting_id is None:
            return None
        sighting = await self._session.get(Sighting, previous.sighting_id)
        if sighting is None:  # erased with its case since: the record alone cannot answer
            raise not_found("sighting", previous.sighting_id)
        return _sighting_out(sighting)

    async def _add_sighting(
        self, principal: Principal, report_id: str, body: SightingIn
    ) -> SightingOut:
        report = await self._load(principal, "add_sighting", report_id, for_update=True)
        # A patrol of another unit may add a sighting to a case it does not see: its refusals
        # say no more of the case than that (not its status, not when the child was seen).
        sees_case = access.sees(principal, report.unit)
        try:
            self._transition(report, "add_sighting")
        except Problem:
            if sees_case:
                raise
            raise Problem(409, "Conflict", "this case takes no sightings now") from None
        if report.erased_at is not None:
            # An expired case takes sightings; once erased, a description would bring personal
            # data back into a record that must hold none.
            if not sees_case:
                raise Problem(409, "Conflict", "this case takes no sightings now")
            raise Problem(
                409,
                "Conflict",
                "this case's personal data was erased: it takes no more sightings",
                status_now=self.status_of(report),
            )
        self._authorise(principal, "add_sighting", report, trusted=body.trusted)
        # From the public part alone: no need to unseal the restricted one for a time.
        last_seen_at = datetime.fromisoformat(json.loads(report.public_data)["last_seen"]["at"])
        earliest = last_seen_at - self._sighting_horizon
        # Only for a key that sees the case: to one that does not, whether a time is refused
        # would tell when the child was last seen (a few tries find it to the second). Its
        # sighting is untrusted anyway, and the case's unit sees the date when it looks.
        if body.at < earliest and sees_case:
            # Older than the last-seen time by more than the horizon, it could never join
            # the zone (the newest location is at least that recent) and would say nothing:
            # most often a mistyped date.
            limit = f"before {as_utc(earliest).isoformat()}, "
            raise field_problem(
                "at",
                f"{limit}too long before the child was last seen to tell where they may be "
                "now (check the date)",
            )
        body = self._located(body, "")
        assert body.location is not None
        destination = body.destination.location if body.destination else None
        sighting = Sighting(
            id=str(uuid.uuid4()),
            report_id=report.id,
            lat=body.location.lat,
            lon=body.location.lon,
            place_name=body.place_name,
            seen_at=body.at,
            description=body.description,
            trusted=body.trusted,
            created_at=self._now,
            submitted_by_key=principal.key_id,
            unit=principal.unit,
            heading_deg=body.heading_deg,
            destination_lat=destination.lat if destination else None,
            destination_lon=destination.lon if destination else None,
            destination_place_name=body.destination.place_name if body.destination else None,
        )
        report.sightings.append(sighting)
        if sighting.trusted and report.status == "submitted":
            report.wrote_content(principal.key_id)  # the zone approval will draw moves
        await self._record(
            principal, report, "add_sighting", self._sighting_event(report, sighting)
        )
        return _sighting_out(sighting)

    async def trust_sighting(
        self, principal: Principal, report_id: str, sighting_id: str
    ) -> SightingOut:
        """The owning unit or a reviewer accepts a sighting (one from another unit, typically):
        it joins the zone like a sighting sent as trusted."""
        if not access.reads_contents(principal):
            # Trusting is vouching for what the sighting says, and the answer says it: only a
            # key that may read it does (as every act's answer, ``_answer``).
            raise Problem(
                403,
                "Forbidden",
                "This key lacks the 'reports:read' scope: a sighting is trusted by a key that "
                "can read it.",
            )
        report = await self._load(principal, "trust_sighting", report_id, for_update=True)
        self._transition(report, "trust_sighting")
        self._authorise(principal, "trust_sighting", report)
        if report.erased_at is not None:
            # As it takes no new sighting: an erased case is a record of what happened.
            raise Problem(
                409,
                "Conflict",
                "this case's personal data was erased: its sightings stand as they are",
                status_now=self.status_of(report),
            )
        sighting = next((s for s in report.sightings if s.id == sighting_id), None)
        if sighting is None:
            raise not_found("sighting", sighting_id)
        if sighting.trusted:
            return _sighting_out(sighting)  # trusted already: nothing changes, nothing is sent
        sighting.trusted = True
        if report.status == "submitted":
            report.wrote_content(principal.key_id)  # the zone approval will draw moves
        # The same event as a sighting sent trusted, under the same sighting id: the alert
        # engine adds a sighting id to the zone once, whichever way it came.
        await self._record(
            principal, report, "trust_sighting", self._sighting_event(report, sighting)
        )
        return _sighting_out(sighting)

    async def erase(self, principal: Principal, report_id: str) -> ReportOut:
        """An operator erases an ended case's personal data now, not at its retention time.
        Erasing an erased case changes nothing."""
        report = await self._load(principal, "erase", report_id, for_update=True)
        self._authorise(principal, "erase", report)
        status = self.status_of(report)
        if not retention.ended(report.status, report.expires_at, self._now):
            raise Problem(
                409,
                "Conflict",
                f"only an ended case can be erased; this one is {status}",
                status_now=status,
            )
        if report.erased_at is None:
            await retention.erase(
                self._session, [(report.id, report.public_data)], principal.key_id, self._now
            )
            CASE_ACTIONS.labels(retention.ERASE_ACTION).inc()
            log.info("report erased", extra={"report_id": report.id, "key_id": principal.key_id})
            # The erasure wrote past the ORM: read back what it left.
            await self._session.refresh(report)
            for sighting in report.sightings:
                await self._session.refresh(sighting)
        return self._answer(principal, report)

    # --- helpers ---------------------------------------------------------------------------

    def _located(self, where: _Where, field_prefix: str) -> _Where:
        """``where`` with its location (and its destination's, if any) set: as given, or
        geocoded from the place name (a 422 naming ``{field_prefix}place_name`` or
        ``{field_prefix}destination.place_name`` if a name is unknown or ambiguous)."""
        destination = where.destination
        if destination is not None:
            destination = self._point_of(destination, f"{field_prefix}destination.")
        located = self._point_of(where, field_prefix)
        return located.model_copy(update={"destination": destination})

    def _public_place(
        self, typed: str | None, point: Point
    ) -> tuple[str | None, dict[Language, str] | None]:
        """The place the public texts name, per language (``places.public_place``)."""
        return public_place(self._gazetteer(), typed or None, point)

    def _point_of(self, where: _Place, field_prefix: str) -> _Place:
        if where.location is not None:
            # A point wins over a name (no lookup), if it lies where the service alerts.
            self._service_area.check(where.location, f"{field_prefix}location")
            return where
        assert where.place_name is not None  # the schema requires one or the other
        point = resolve_place(self._gazetteer(), where.place_name, f"{field_prefix}place_name")
        return where.model_copy(update={"location": point})

    async def _case_unit(self, principal: Principal, named: str | None) -> str | None:
        """The unit a new case belongs to: the key's own; a national key's choice (or none)."""
        if not principal.national:
            if named is not None and named != principal.unit:
                raise field_problem(
                    "submitted_by.unit",
                    f"this key belongs to unit {principal.unit}: omit the unit or give that one",
                )
            return principal.unit
        if named is not None and await self._session.get(Unit, named) is None:
            raise field_problem("submitted_by.unit", f"unknown unit {named}")
        return named

    async def _load(
        self, principal: Principal, act: access.Act, report_id: str, *, for_update: bool = False
    ) -> Report:
        # The sightings in the same statement (not the relationship's own second SELECT):
        # one round trip less on every change of a case, approval and take-down included.
        query = select(Report).options(joinedload(Report.sightings)).where(Report.id == report_id)
        if for_update:
            # Two reviewers racing on one case: the second waits and sees the first's result.
            # Only the report's row: its sightings are the outer join's nullable side.
            query = query.with_for_update(of=Report)
        report = (await self._session.scalars(query)).unique().one_or_none()
        # Another unit's case is answered exactly like a missing one: ids do not leak.
        if report is None or not access.reachable(principal, act, report.unit):
            raise not_found("report", report_id)
        return report

    def _authorise(
        self,
        principal: Principal,
        act: access.Act,
        report: Report,
        *,
        trusted: bool = False,
        shown: bool = False,
    ) -> None:
        case = access.Case(
            report.unit,
            report.submitted_by_key,
            self.status_of(report),
            frozenset(report.content_authors),
        )
        refused = access.refusal(principal, act, case, trusted=trusted, shown=shown)
        if refused is not None:
            raise Problem(403, refused.title, refused.detail)

    def _sighting_event(self, report: Report, sighting: Sighting) -> SightingAdded:
        return SightingAdded(**self._about(report), data=self._sighting_data(report, sighting))

    def _sighting_data(self, report: Report, sighting: Sighting) -> SightingAddedData:
        destination = (
            None
            if sighting.destination_lat is None or sighting.destination_lon is None
            else Point(lat=sighting.destination_lat, lon=sighting.destination_lon)
        )
        point = Point(lat=sighting.lat, lon=sighting.lon)
        place, place_names = self._public_place(sighting.place_name, point)
        return SightingAddedData(
            report_id=report.id,
            sighting_id=sighting.id,
            point=point,
            place=place,
            place_names=place_names,
            seen_at=sighting.seen_at,
            trusted=sighting.trusted,
            heading_deg=sighting.heading_deg,
            destination=destination,
            alert_id=report.alert_id,
        )

    def _case_note(self, report: Report, note: str | None) -> str | None:
        """A resolution's note or a cancellation's reason as the case keeps it: sealed; not at
        all once the case's personal data was erased (an expired case is erased, and may be
        resolved after that), as the retention sweep takes only cases not erased yet."""
        return None if report.erased_at is not None else self._seal_note(note)

    def _seal_note(self, note: str | None) -> str | None:
        # Reasons and resolution notes are case notes: restricted, so encrypted at rest.
        return None if note is None else self._sealer.seal({"note": note})

    def _unseal_note(self, sealed: str | None) -> str | None:
        return None if sealed is None else str(self._sealer.unseal(sealed)["note"])

    def _ttl(self, hours: float | None) -> timedelta:
        return timedelta(hours=hours) if hours is not None else self._default_ttl

    def status_of(self, report: Report) -> str:
        if report.status == "approved" and report.expires_at and report.expires_at <= self._now:
            return "expired"
        return report.status

    def _transition(self, report: Report, action: lifecycle.Action) -> str:
        status = self.status_of(report)
        try:
            return lifecycle.next_status(status, action)
        except lifecycle.InvalidTransition as exc:
            raise Problem(409, "Conflict", str(exc), status_now=status) from None

    def _about(self, report: Report) -> dict[str, Any]:
        """The envelope attributes of an event about ``report``, happening now."""
        return {"source": SOURCE, "subject": report.id, "time": self._now}

    async def _record(
        self, principal: Principal, report: Report, action: str, event: ReportEvent
    ) -> None:
        """A change to ``report``: its audit entry and its event, in the same transaction."""
        report.updated_at = self._now
        await add_event(self._session, event)
        # The audit entry's insert locks the chain's head, one row that every change of every
        # case takes, until the commit: the rest is written now, so the commit's own flush
        # writes the entry and the lock is held for its statements and the commit only, not
        # also for the case's writes and the work before the commit. (An Idempotency-Key
        # already taken surfaces here too, as the unique violation ``submit`` replays.)
        await self._session.flush()
        self._audit(principal, action, report.id)

    def _audit(self, principal: Principal, action: str, report_id: str) -> None:
        CASE_ACTIONS.labels(action).inc()
        self._session.add(
            AuditEntry(at=self._now, key_id=principal.key_id, action=action, report_id=report_id)
        )
        log.info("report %s", action, extra={"report_id": report_id, "key_id": principal.key_id})

    def _content(self, report: Report) -> ReportIn:
        merged: dict[str, Any] = merge_restricted(
            json.loads(report.public_data), self._sealer.unseal(report.sealed_data)
        )
        # The case's unit column is the truth: cases filed before units existed carry free
        # text there (and belong to no unit), which the unit-code pattern would refuse.
        merged.setdefault("submitted_by", {})["unit"] = report.unit
        # Valid when submitted; checks against "now" are not repeated (see STORED).
        return ReportIn.model_validate(merged, context=STORED)

    def _corrected_data(self, report: Report, content: ReportIn) -> ReportCorrectedData:
        return ReportCorrectedData(
            report_id=report.id, alert_id=report.alert_id, **self._public_description(content)
        )

    def _public_description(self, content: ReportIn) -> dict[str, Any]:
        """What partners are shown of the child and of whom they may be with: the same in an
        approval and in a correction."""
        child = content.child
        vehicle = content.suspected_vehicle
        return {
            "child": PublicChild(
                given_name=child.given_name,
                age=child.age_years(self._today()),
                sex=child.sex,
                description=child.description,
                clothing=child.clothing,
            ),
            "photo_urls": [str(u) for u in child.photo_urls],
            "suspected_vehicle": (
                f"{vehicle.description} ({vehicle.plate})"
                if vehicle and vehicle.plate
                else vehicle.description
                if vehicle
                else None
            ),
            "companion": content.companion,
        }

    def _approved_data(self, report: Report, content: ReportIn) -> ReportApprovedData:
        zone = _zone_inputs(content)
        place, place_names = self._public_place(content.last_seen.place_name, zone.point)
        return ReportApprovedData(
            report_id=report.id,
            alert_id=report.alert_id or alert_id_for(report.id),
            approved_at=self._now,
            message_status=content.message_status,
            last_seen_point=zone.point,
            last_seen_place=place,
            last_seen_place_names=place_names,
            last_seen_at=zone.at,
            travel_mode=zone.travel_mode,
            **self._public_description(content),
            expires_at=report.expires_at,
            last_seen_heading_deg=zone.heading_deg,
            last_seen_destination=zone.destination,
            sightings=[self._sighting_data(report, s) for s in _newest_trusted(report)],
        )

    def _answer(
        self, principal: Principal, report: Report, content: ReportIn | None = None
    ) -> ReportOut:
        """The case as an act's answer: its state, and its contents for a key that may read
        cases (``access.reads_contents``)."""
        out = self.to_out(report, content=content)
        if access.reads_contents(principal):
            return out
        return out.model_copy(update={"report": None, "sightings": [], "status_reason": None})

    def to_out(
        self,
        report: Report,
        sightings: list[Sighting] | None = None,
        content: ReportIn | None = None,
    ) -> ReportOut:
        return ReportOut(
            id=report.id,
            status=self.status_of(report),
            alert_id=report.alert_id,
            message_status=report.message_status,
            created_at=report.created_at,
            updated_at=report.updated_at,
            unit=report.unit,
            version=case_version(report.id, report.updated_at),
            submitted_by_key=report.submitted_by_key,
            content_by_keys=report.content_authors,
            reviewed_by_key=report.reviewed_by_key,
            status_reason=self._unseal_note(report.status_reason),
            expires_at=report.expires_at,
            criteria=Criteria.model_validate_json(report.criteria) if report.criteria else None,
            report=None if report.erased_at else content or self._content(report),
            erased_at=report.erased_at,
            sightings=[
                _sighting_out(s) for s in (report.sightings if sightings is None else sightings)
            ],
        )


def _unchanged_since_read(report: Report, if_match: str | None) -> None:
    """A 412 if ``If-Match`` names a version of the case other than its current one: the act
    would otherwise be done on a case its sender has not seen."""
    version = case_version(report.id, report.updated_at)
    if if_match is not None and not matches(if_match, version):
        raise Problem(
            412,
            "Precondition failed",
            f'The case changed since it was read (now version "{version}"): read it '
            "again and review what changed.",
        )


def _newest_trusted(report: Report) -> list[Sighting]:
    """The case's trusted sightings an approval carries: the newest ``CARRIED_SIGHTINGS``."""
    trusted = [s for s in report.sightings if s.trusted]
    trusted.sort(key=lambda s: s.seen_at, reverse=True)
    return trusted[:CARRIED_SIGHTINGS]


# What a correction cannot change: who filed the case, and whether it is a drill; and once
# the alert is out, what its zone is drawn from.
_FIXED_FIELDS = ("submitted_by", "message_status")
_ZONE_FIELDS = ("last_seen", "travel_mode")
_FIXED_WHY = {
    "": "cannot be corrected: withdraw the case and file it again",
    "last_seen": "the alert is out: add where the child was seen since as a sighting "
    "(POST /v1/reports/{id}/sightings)",
    "travel_mode": "the alert is out, its zone drawn for this travel mode: a sighting with a "
    "heading or a destination says how the child moves now",
}


def _with_place_located(patch: dict[str, Any], stored_place: str | None) -> dict[str, Any]:
    """The patch, where it names another last-seen place (or a destination) without a point,
    also dropping the stored point: the new name is looked up, not shown beside the old
    name's point. The same name again keeps the point (an officer's exact one, often)."""
    last_seen = patch.get("last_seen")
    if not isinstance(last_seen, dict):
        return patch
    last_seen = dict(last_seen)
    place = last_seen.get("place_name")
    if place is not None and place != stored_place and "location" not in last_seen:
        last_seen["location"] = None
    destination = last_seen.get("destination")
    if isinstance(destination, dict) and destination.get("place_name") is not None:
        last_seen["destination"] = {"location": None, **destination}
    return {**patch, "last_seen": last_seen}


def _zone_inputs(content: ReportIn) -> ZoneInputs:
    last_seen = content.last_seen
    return ZoneInputs(
        point=_stored_point(last_seen),
        at=last_seen.at,
        travel_mode=content.travel_mode,
        heading_deg=last_seen.heading_deg,
        destination=last_seen.destination.location if last_seen.destination else None,
    )


def _stored_point(last_seen: LastSeenIn) -> Point:
    # Submission stores a point for every report (geocoding a bare place name first).
    if last_seen.location is None:
        raise RuntimeError("a stored report has no last-seen point")
    return Point(lat=last_seen.location.lat, lon=last_seen.location.lon)


def _sighting_out(s: Sighting) -> SightingOut:
    return SightingOut(
        id=s.id,
        location=Point(lat=s.lat, lon=s.lon),
        place_name=s.place_name,
        at=s.seen_at,
        description=s.description,
        trusted=s.trusted,
        created_at=s.created_at,
        unit=s.unit,
        heading_deg=s.heading_deg,
        destination=None
        if s.destination_lat is None or s.destination_lon is None
        else DestinationIn(
            place_name=s.destination_place_name,
            location=Point(lat=s.destination_lat, lon=s.destination_lon),
        ),
    )
