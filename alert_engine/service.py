"""Alert use cases: issue, add a sighting, renew, widen, cancel. Run inside the consumer's
transaction; every new version is stored and staged in the outbox together, so partners get
exactly what is stored.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import shapely
from sqlalchemy import ScalarSelect, Select, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from alert_engine.composer import (
    CaseState,
    Presentation,
    area_of,
    clipped_zone,
    compose,
    prepare_zone,
    version_reference,
    zone_at,
)
from alert_engine.geodesy import geodesic_area_m2
from alert_engine.locations import TrustedLocation
from alert_engine.metrics import PREPARED_ZONES_USED, VERSIONS, ZONE_SECONDS, ZONES_PREPARED
from alert_engine.models import (
    Alert,
    AlertVersion,
    ApprovedFacts,
    ClosedReport,
    EarlyChange,
    EarlyRenewal,
)
from alert_engine.pieces import Piece, newest_first, pieces_at, reaches_at
from alert_engine.prepared_zones import ClippedZone, PreparedZones, zone_key
from alert_engine.texts import CaseFacts, cancel_info
from alert_engine.zone_policy import ZonePolicy, radius_km
from shared.alert_contract import AlertMessage, Area, MsgType, Point, TravelMode
from shared.db import truncate_wal_once_committed
from shared.events import (
    AlertCancelled,
    AlertErased,
    AlertErasedData,
    AlertEvent,
    AlertEventData,
    AlertExpired,
    AlertIssued,
    AlertUpdated,
    ReportApprovedData,
    ReportCorrectedData,
    ReportRenewedData,
    ReportSubmittedData,
    SightingAddedData,
)
from shared.outbox import add_event, forget_carried
from shared.transient_errors import describe

SOURCE = "tifli/alert-engine"
# Zones are drawn in one thread of their own, off the event loop. One: drawing is Python and
# GEOS under the GIL, so two at once finish no sooner, and a territory is drawn on by one at a
# time anyway (``Territory.drawing``). Its own: drawings queued in asyncio's default executor
# would take the threads that resolve host names for the dispatcher's requests.
_DRAWING_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tifli-zones")
_P = ParamSpec("_P")
_T = TypeVar("_T")
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
    # Zones drawn while reports await review (``prepare``); None draws every zone when needed.
    prepared: PreparedZones | None = None
    # Whether an Update's zone is drawn before its transaction (``draw_before``): where the
    # database has one writer (SQLite), which a transaction holds while it draws, and every
    # API request with a key waits for it. On PostgreSQL a transaction holds only its alert's
    # row, and engines share the timers by locking each due alert: drawing before that, each
    # engine would draw every widening.
    updates_drawn_ahead: bool = False


async def off_the_loop(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``function(*args, **kwargs)`` run in the zone-drawing thread: a zone of hundreds of
    kilometres takes a good part of a second, which on the event loop would hold up every
    other handler (and, in the embedded mode, every API request) until it is done."""
    call = functools.partial(function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_DRAWING_THREAD, call)


def prepare_for_review(config: EngineConfig, submitted: ReportSubmittedData, now: datetime) -> None:
    """Draw the zone a report will get if approved, while it awaits review (``PreparedZones``).
    No database: the caller need not hold a transaction open while it draws."""
    prepared = config.prepared
    if prepared is None or submitted.zone is None:
        return
    try:
        drawn = prepare_zone(prepared, submitted.zone, config.policy, now)
    except Exception as exc:
        # Retrying would hold up the case's later events (its approval among them) and end
        # in the dead-letter topic; the approval draws the zone itself, and any fault in
        # drawing it surfaces there, where it matters.
        _not_drawn_in_advance(submitted.report_id, exc)
        return
    if drawn:
        ZONES_PREPARED.inc()


@dataclass(frozen=True)
class DrawnBefore:
    """A zone drawn before its transaction (``draw_before``), for the pieces it was drawn
    from: the transaction uses it only for the very same pieces."""

    pieces: bytes  # ``prepared_zones.zone_key`` of the pieces
    # The zone; or the drawing's fault, raised where the zone is used (not drawn and failed
    # again there).
    outcome: ClippedZone | Exception
    seconds: float  # the drawing's time, counted in the version's ``ZONE_SECONDS``


def draw_for_approval(
    config: EngineConfig, approved: ReportApprovedData, now: datetime
) -> DrawnBefore | None:
    """The zone an approval's alert gets at ``now``, drawn before its transaction opens
    (``draw_before``)."""
    if (approved.expires_at or now) < now:
        return None  # the window closed: no alert is put up now
    locations = _approved_locations(approved)
    return draw_before(config, approved.report_id, locations, approved.travel_mode, now)


def draw_before(
    config: EngineConfig,
    report_id: str,
    locations: Sequence[TrustedLocation],
    travel_mode: TravelMode,
    now: datetime,
) -> DrawnBefore | None:
    """The zone of ``locations`` at ``now``, drawn before the transaction that publishes it
    opens, so that the transaction holds the database (in the embedded mode SQLite's one
    writer, which every API request with a key waits for) for milliseconds rather than for
    the drawing. The transaction uses it only if its alert's zone is this very one (it is
    keyed by its pieces): an alert changed meanwhile draws its own. None where there is
    nothing to draw (no territory; drawn while the report awaited review: it is found there).
    A drawing that fails is carried too: the transaction raises its fault where it would
    have drawn the zone (its handler fails as it would have), rather than draw it again."""
    started = time.perf_counter()
    policy = config.policy
    if policy.territory is None:
        return None  # nothing to clip to
    try:
        pieces = pieces_at(list(locations), travel_mode, policy, now)
    except Exception as exc:
        # Nothing to key a fault by: the transaction computes the pieces again, if it needs
        # them at all (an event handled already, or a case closed, needs none).
        _not_drawn_in_advance(report_id, exc)
        return None
    polygons = [p.polygon for p in pieces]
    if config.prepared is not None and polygons in config.prepared:
        return None
    try:
        zone = clipped_zone(pieces, policy)
    except Exception as exc:
        _not_drawn_in_advance(report_id, exc)
        return DrawnBefore(zone_key(polygons), exc, time.perf_counter() - started)
    return DrawnBefore(zone_key(polygons), zone, time.perf_counter() - started)


def _not_drawn_in_advance(report_id: str, fault: Exception) -> None:
    log.warning("zone not drawn in advance", extra={"report_id": report_id, **describe(fault)})


def live_or_expired(report_id: str) -> Select[Alert]:
    """The case's alert if it is up or expired (not taken down): the one a change of the
    case may still touch (an expired one is kept as the case stands, for a renewal)."""
    return select(Alert).where(Alert.report_id == report_id, Alert.state.in_(("active", "expired")))


@dataclass(frozen=True)
class JoinedSighting:
    """An alert's locations with a trusted sighting joined (``join_sighting``)."""

    locations: list[TrustedLocation]
    centre: bool  # the newest now: the zone's centre and the texts' "last seen"
    shown: bool  # the zone changes: partners get an Update


def join_sighting(
    alert: Alert, sighting: SightingAddedData, policy: ZonePolicy, now: datetime
) -> JoinedSighting | None:
    """The trusted sighting joined to the alert's locations: the newest drives the centre; an
    older one within the horizon is evidence too, and widens the union without moving the
    centre (shown only if that adds ground). None if it does not join: already joined (the
    event came again under another id), or past the horizon (it can never be part of the
    zone)."""
    known = locations_of(alert)
    if any(loc.sighting_id == sighting.sighting_id for loc in known):
        return None
    newest = newest_first(known)[0]
    if newest.at - sighting.seen_at > policy.sighting_horizon:
        return None
    added = location_of(sighting)
    locations = [*known, added]
    if newest_first(locations)[0] is added:
        return JoinedSighting(locations, centre=True, shown=True)
    before = _union(pieces_at(known, alert.travel_mode, policy, now))
    after = _union(pieces_at(locations, alert.travel_mode, policy, now))
    return JoinedSighting(locations, centre=False, shown=not shapely.covers(before, after))


def extends(alert: Alert, renewed: ReportRenewedData, now: datetime) -> bool:
    """Whether the renewal extends the (active or expired) alert's window: an active one's to
    a later end; an expired one's (the timer took it down, or its approval came after its
    window) if it was renewed before it ended and the renewed window is still running."""
    if alert.state == "active":
        return renewed.expires_at > alert.expires
    return renewed.renewed_at < alert.expires and renewed.expires_at > now


def update_locations(
    alert: Alert,
    change: SightingAddedData | ReportCorrectedData | ReportRenewedData,
    config: EngineConfig,
    now: datetime,
) -> list[TrustedLocation] | None:
    """The locations whose zone an Update for this change of the (active or expired) alert
    would show at ``now``; None if the change brings no Update. The same decisions as
    ``AlertService``'s (the handler's transaction makes them again, on the locked alert): for
    drawing the zone before that transaction (``draw_before``)."""
    if isinstance(change, ReportRenewedData):
        return locations_of(alert) if extends(alert, change, now) else None
    if alert.state != "active":
        return None
    if isinstance(change, ReportCorrectedData):
        return locations_of(alert) if corrected_facts(alert, change) is not None else None
    if not change.trusted:
        return None
    joined = join_sighting(alert, change, config.policy, now)
    return joined.locations if joined is not None and joined.shown else None


def widening_due(alert: Alert, config: EngineConfig, now: datetime) -> bool:
    """Whether the alert's zone has grown enough since the area partners hold was computed
    to be worth an Update at ``now`` (its widening time come). Pure: the timers ask it before
    the alert's transaction, to draw the zone first."""
    if alert.next_widen_at is None or now < alert.next_widen_at:
        return False
    locations, policy = locations_of(alert), config.policy
    if reaches_at(locations, alert.travel_mode, policy, alert.updated_at) == reaches_at(
        locations, alert.travel_mode, policy, now
    ):
        return False  # every piece is at its cap: the zone has not grown, nothing to measure
    # Growth of the whole union since the area partners hold was computed (every version
    # sets updated_at): older pieces grow too while the newest may still sit at the floor.
    sent = _area_m2(pieces_at(locations, alert.travel_mode, policy, alert.updated_at))
    grown = _area_m2(pieces_at(locations, alert.travel_mode, policy, now))
    return grown / sent - 1 > config.widen_min_growth  # else not enough new ground


class AlertService:
    def __init__(self, session: AsyncSession, config: EngineConfig, now: datetime) -> None:
        self._session = session
        self._config = config
        self._now = now

    async def issue(
        self, approved: ReportApprovedData, drawn: DrawnBefore | None = None
    ) -> AlertMessage | None:
        """The first version of an approved case (None if the approval was redelivered): the zone
        around the last-seen point (``drawn`` already, if it was: ``draw_for_approval``)."""
        if await self._session.get(Alert, approved.alert_id) is not None:
            return None  # already issued: the approval was redelivered
        # Whether the case closed, and what was kept for it, in one round trip: this is on
        # the way from approval to partners.
        report_id = approved.report_id
        closed_at, renewed_until, changed = (
            await self._session.execute(
                select(
                    _of_report(ClosedReport.closed_at, ClosedReport.report_id, report_id),
                    _of_report(EarlyRenewal.expires_at, EarlyRenewal.report_id, report_id),
                    exists().where(EarlyChange.report_id == report_id),
                )
            )
        ).one()
        if closed_at is not None:
            _closed_case_said("approval", report_id)
            return None
        expires = approved.expires_at or approved.approved_at + self._config.ttl
        if renewed_until is not None and renewed_until > expires:
            expires = renewed_until  # renewed while this approval waited to be sent again
        facts = ApprovedFacts(
            child=approved.child,
            place=approved.last_seen_place,
            suspected_vehicle=approved.suspected_vehicle,
            companion=approved.companion,
            photo_urls=approved.photo_urls,
        )
        locations = _approved_locations(approved)
        if changed:
            # Corrected and sighted while this approval waited to be sent again.
            facts, locations = await self._with_early_changes(report_id, facts, locations)
        newest = newest_first(locations)[0]
        over = expires <= self._now
        alert = Alert(
            id=approved.alert_id,
            report_id=approved.report_id,
            state="expired" if over else "active",
            message_status=approved.message_status,
            sequence=0,
            facts=facts,
            center_lat=newest.point.lat,
            center_lon=newest.point.lon,
            center_at=newest.at,
            locations=locations,
            travel_mode=approved.travel_mode,
            radius_km=0.0,
            effective=self._now,
            expires=expires,
            next_widen_at=None if over else self._now + self._config.widen_interval,
            updated_at=self._now,
        )
        self._session.add(alert)
        if over:
            # Handled only once the window the reviewer approved had closed (the engine was
            # down that long, or the approval was parked and redriven later): put up now, the
            # alert would show partners the child until its own expiry took it down moments
            # later. Kept as an alert that expired, never published (no version: readers do
            # not show it): a renewal accepted within the window and handled after this
            # brings it up (``_revive``), as it would an alert its expiry took down.
            log.warning(
                "approval handled after its window closed: no alert",
                extra={"report_id": approved.report_id, "alert_id": approved.alert_id},
            )
            return None
        # A new alert has no earlier versions to reference: not asking also keeps the alert
        # unflushed until commit, so it is inserted once, complete, instead of inserted and
        # then updated (two round trips fewer on the way from approval to partners).
        return await self._publish(alert, "Alert", earlier=(), drawn=drawn)

    async def _with_early_changes(
        self, report_id: str, facts: ApprovedFacts, locations: list[TrustedLocation]
    ) -> tuple[ApprovedFacts, list[TrustedLocation]]:
        """``facts`` and ``locations`` with the corrections and trusted sightings kept for the
        case (``EarlyChange``), which are deleted: the newest correction's description (each
        carries the whole of it), and every sighting not already among the locations."""
        kept = (
            await self._session.scalars(
                select(EarlyChange)
                .where(EarlyChange.report_id == report_id)
                .order_by(EarlyChange.id)
            )
        ).all()
        known = {loc.sighting_id for loc in locations}
        for change in kept:
            if change.correction is not None:
                facts = _corrected_facts(facts, change.correction)
            elif change.sighting is not None and change.sighting.sighting_id not in known:
                known.add(change.sighting.sighting_id)
                locations = [*locations, location_of(change.sighting)]
        await self._delete_early_changes(report_id)
        return facts, locations

    async def _delete_early_changes(self, report_id: str) -> None:
        await self._session.execute(delete(EarlyChange).where(EarlyChange.report_id == report_id))

    async def _keep_for_approval(
        self,
        report_id: str,
        *,
        correction: ReportCorrectedData | None = None,
        sighting: SightingAddedData | None = None,
    ) -> None:
        """A change of an approved case that has no alert here yet: its approval failed and
        waits on the dead-letter topic. Kept for it (``EarlyChange``), unless the case has an
        alert (taken down: a change after the end changes nothing) or it closed."""
        alert_id, closed_at = (
            await self._session.execute(
                select(
                    _of_report(Alert.id, Alert.report_id, report_id),
                    _of_report(ClosedReport.closed_at, ClosedReport.report_id, report_id),
                )
            )
        ).one()
        if alert_id is not None or closed_at is not None:
            return
        self._session.add(
            EarlyChange(
                report_id=report_id, handled_at=self._now, correction=correction, sighting=sighting
            )
        )
        log.info(
            "change kept for an approval not handled yet",
            extra={"report_id": report_id, "change": "correction" if correction else "sighting"},
        )

    async def add_sighting(
        self, sighting: SightingAddedData, drawn: DrawnBefore | None = None
    ) -> AlertMessage | None:
        """A trusted sighting joins the zone's union: the newest location drives
        the centre; an older one within the horizon is evidence too, and widens the union
        without moving the centre. An Update goes out when the area changes (its zone
        ``drawn`` already, if it was: ``draw_before``)."""
        if not sighting.trusted:
            return None
        alert = await self._live_or_expired(sighting.report_id)
        if alert is None:
            if sighting.alert_id is not None:  # approved: its approval may come back
                await self._keep_for_approval(sighting.report_id, sighting=sighting)
            return None
        joined = join_sighting(alert, sighting, self._config.policy, self._now)
        if joined is None:
            return None
        alert.locations = joined.locations
        if joined.centre:
            alert.center_lat, alert.center_lon = sighting.point.lat, sighting.point.lon
            alert.center_at = sighting.seen_at
        if alert.state != "active":
            return None  # kept for a renewal that brings it back (``_revive``)
        if not joined.shown:
            return None  # inside the zone already: kept, but nothing new to show
        return await self._publish(alert, "Update", drawn=drawn)

    async def correct(
        self, corrected: ReportCorrectedData, drawn: DrawnBefore | None = None
    ) -> AlertMessage | None:
        """The case's description corrected (a photo added, a description put right): partners
        show the corrected one from now on, in an Update whose zone is the alert's at this
        moment (``drawn`` already, if it was). Before approval there is nothing to update: the
        approval carries the corrected case."""
        alert = await self._live_or_expired(corrected.report_id)
        if alert is None:
            if corrected.alert_id is not None:  # approved: its approval may come back
                await self._keep_for_approval(corrected.report_id, correction=corrected)
            return None  # not approved yet (the approval carries the correction), or over
        facts = corrected_facts(alert, corrected)
        if facts is None:
            return None
        alert.facts = facts
        if alert.state != "active":
            return None  # kept for a renewal that brings it back (``_revive``)
        return await self._publish(alert, "Update", drawn=drawn)

    async def renew(
        self, renewed: ReportRenewedData, drawn: DrawnBefore | None = None
    ) -> AlertMessage | None:
        """The reviewer extended the time window: partners get the new ``expires`` now (the
        Update's zone ``drawn`` already, if it was)."""
        if await self._closed(renewed.report_id, "renewal"):
            return None
        alert = await self._active_for(renewed.report_id)
        if alert is None:
            return await self._revive(renewed, drawn)
        if not extends(alert, renewed, self._now):
            return None
        alert.expires = renewed.expires_at
        return await self._publish(alert, "Update", drawn=drawn)

    async def _revive(
        self, renewed: ReportRenewedData, drawn: DrawnBefore | None
    ) -> AlertMessage | None:
        """A renewal accepted before the window closed, but handled after the expiry timer
        took the alert down: intake says the case runs on, so the alert must be live again."""
        alert = (
            await self._session.scalars(
                select(Alert)
                .where(Alert.report_id == renewed.report_id, Alert.state == "expired")
                .with_for_update()
            )
        ).one_or_none()
        if alert is None:
            if (
                await self._session.scalar(
                    select(Alert.id).where(Alert.report_id == renewed.report_id).limit(1)
                )
                is None
            ):
                # No alert at all yet: the approval failed and waits on the dead-letter topic.
                # Its window is this one now, when it is sent again (``EarlyRenewal``).
                await self._remember_renewal(renewed)
            return None  # cancelled: nothing to bring back
        if not extends(alert, renewed, self._now):
            return None
        alert.state, alert.expires = "active", renewed.expires_at
        alert.next_widen_at = self._now + self._config.widen_interval
        return await self._publish(alert, "Alert", drawn=drawn)

    async def _remember_renewal(self, renewed: ReportRenewedData) -> None:
        kept = await self._session.get(EarlyRenewal, renewed.report_id, with_for_update=True)
        if kept is None:
            self._session.add(
                EarlyRenewal(
                    report_id=renewed.report_id,
                    expires_at=renewed.expires_at,
                    renewed_at=renewed.renewed_at,
                )
            )
        elif renewed.expires_at > kept.expires_at:
            kept.expires_at, kept.renewed_at = renewed.expires_at, renewed.renewed_at

    async def on_timer(self, alert: Alert, drawn: DrawnBefore | None = None) -> AlertMessage | None:
        """Whatever is due for this (locked, active) alert: expiry first, else widening (its
        zone ``drawn`` already, if it was: ``draw_before``).

        After downtime a single pass catches up: one expiry, or one Update to the radius of
        *now* — never a burst of the widenings that were missed."""
        if self._now >= alert.expires:
            alert.state, alert.next_widen_at = "expired", None
            return await self._publish(alert, "Cancel", AlertExpired)
        if alert.next_widen_at is None or self._now < alert.next_widen_at:
            return None
        grown = widening_due(alert, self._config, self._now)
        alert.next_widen_at = self._now + self._config.widen_interval
        if not grown:
            return None
        return await self._publish(alert, "Update", drawn=drawn)

    async def cancel(self, report_id: str) -> AlertMessage | None:
        """The take-down of the case's live alert (None if there is none): partners withdraw it.
        The case is remembered as closed either way (``ClosedReport``)."""
        await self._close(report_id)
        alert = await self._active_for(report_id)
        if alert is None:
            # Never approved, or already over: nothing is on partners' screens. Or approved
            # with its approval parked: what was kept for it (a description of the child)
            # will never go up.
            await self._delete_early_changes(report_id)
            return None
        alert.state, alert.next_widen_at = "cancelled", None
        return await self._publish(alert, "Cancel")

    def renewal_of_a_closing_case(self, report_id: str) -> None:
        """A renewal of a case whose closing is known to follow it: nothing is extended or
        brought back (the closing takes down what is up)."""
        log.info(
            "renewal of a case closed right after it: nothing extended",
            extra={"report_id": report_id},
        )

    async def close_unpublished(self, report_id: str) -> None:
        """The case remembered as closed before its alert was ever put up (its closing is
        known to follow its approval): nothing goes to partners, and its approval, sent
        again, puts nothing up either (``ClosedReport``)."""
        await self._close(report_id)
        log.info(
            "approval of a case closed right after it: no alert", extra={"report_id": report_id}
        )

    async def forget_child(self, report_id: str) -> int:
        """The erased case's child out of what the engine keeps of its alerts: the facts new
        versions were composed from, and every version as sent, so its CAP document too
        (``AlertMessage.forgotten``: the take-down's texts in place of its own). The
        dispatcher is told to do the same in its payloads. How many alerts.

        A case is erased only once it ended; an alert of it still up here (its take-down
        parked on the dead-letter topic) is taken down first, and what was kept for an
        approval still parked is deleted with it (``cancel``)."""
        await self.cancel(report_id)
        truncate_wal_once_committed(self._session)
        alerts = (
            await self._session.scalars(
                select(Alert).where(Alert.report_id == report_id).with_for_update()
            )
        ).all()
        await forget_carried(self._session, [alert.id for alert in alerts])
        for alert in alerts:
            alert.facts = alert.facts.forgotten()
            texts = cancel_info(status=alert.message_status)
            versions = await self._session.scalars(
                select(AlertVersion).where(AlertVersion.alert_id == alert.id)
            )
            for version in versions:
                message = AlertMessage.model_validate_json(version.payload)
                version.payload = message.forgotten(texts).model_dump_json()
            await add_event(
                self._session,
                AlertErased(
                    source=SOURCE,
                    subject=alert.id,
                    time=self._now,
                    data=AlertErasedData(alert_id=alert.id, info=texts),
                ),
            )
        return len(alerts)

    async def _close(self, report_id: str) -> None:
        if await self._session.get(ClosedReport, report_id) is None:
            self._session.add(ClosedReport(report_id=report_id, closed_at=self._now))

    async def _closed(self, report_id: str, what: str) -> bool:
        """Whether the case is closed: an event of it that comes after the closing (one parked
        on the dead-letter topic and sent again) puts nothing up."""
        if await self._session.get(ClosedReport, report_id) is None:
            return False
        _closed_case_said(what, report_id)
        return True

    async def _live_or_expired(self, report_id: str) -> Alert | None:
        """The case's alert, locked, if it is up or expired (``live_or_expired``). An expired
        one takes changes unpublished: a renewal accepted within its window and handled
        later brings it back (``_revive``), as the case stands then."""
        locked = live_or_expired(report_id).with_for_update()
        return (await self._session.scalars(locked)).one_or_none()

    async def _active_for(self, report_id: str) -> Alert | None:
        return (
            await self._session.scalars(
                select(Alert)
                .where(Alert.report_id == report_id, Alert.state == "active")
                .with_for_update()
            )
        ).one_or_none()

    async def _publish(
        self,
        alert: Alert,
        msg_type: MsgType,
        event: type[AlertEvent] | None = None,
        *,
        earlier: Sequence[AlertVersion] | None = None,
        drawn: DrawnBefore | None = None,
    ) -> AlertMessage:
        """Stage the alert's next version; ``earlier`` are its versions so far, if known."""
        previous = earlier
        if previous is None:
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
            # Drawn before the transaction, the area is composed here at once (a millisecond or
            # two): queued behind another zone in the drawing thread, it would hold the
            # transaction for that one.
            ready = None if drawn is None else _area_as_drawn(case, self._config, self._now, drawn)
            if ready is None:
                ready = await off_the_loop(_drawn_area, case, self._config, self._now)
            area, reach_km = ready
            alert.radius_km = reach_km  # the centre's reach
        alert.sequence += 1
        alert.updated_at = self._now
        message = compose(
            case,
            area=area,
            sequence=alert.sequence,
            msg_type=msg_type,
            references=[version_reference(sender, v.identifier, v.sent) for v in previous],
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


def location_of(sighting: SightingAddedData) -> TrustedLocation:
    """Where a sighting puts the child, as a location of the zone's union."""
    return TrustedLocation(
        point=sighting.point,
        at=sighting.seen_at,
        place=sighting.place,
        heading_deg=sighting.heading_deg,
        destination=sighting.destination,
        sighting_id=sighting.sighting_id,
        place_names=sighting.place_names or {},
    )


def corrected_facts(alert: Alert, corrected: ReportCorrectedData) -> ApprovedFacts | None:
    """The alert's facts as corrected; None if the correction changes nothing partners see
    (the event came again, or corrected what is not shown) or the case was erased (its child
    stays forgotten)."""
    if alert.facts.child is None:
        return None
    facts = _corrected_facts(alert.facts, corrected)
    return None if facts == alert.facts else facts


def _corrected_facts(facts: ApprovedFacts, corrected: ReportCorrectedData) -> ApprovedFacts:
    return facts.model_copy(
        update={
            "child": corrected.child,
            "photo_urls": corrected.photo_urls,
            "suspected_vehicle": corrected.suspected_vehicle,
            "companion": corrected.companion,
        }
    )


def _closed_case_said(what: str, report_id: str) -> None:
    log.warning("event of a closed case ignored", extra={"event": what, "report_id": report_id})


def _of_report(
    value: InstrumentedAttribute[Any], key: InstrumentedAttribute[str], report_id: str
) -> ScalarSelect[Any]:
    """``value`` from the row of ``report_id`` (NULL if none), as a column of a wider select."""
    return select(value).where(key == report_id).scalar_subquery()


def drawn_at_submission(config: EngineConfig, approved: ReportApprovedData, now: datetime) -> bool:
    """Whether the approval's zone was drawn while the report awaited review (``prepare_zone``
    draws only the last-seen point's, and only while its radius is the policy's floor): then
    nothing is left to draw before the approval's transaction."""
    policy = config.policy
    return (
        config.prepared is not None
        and not any(s.trusted for s in approved.sightings or ())
        and radius_km(policy, approved.travel_mode, approved.last_seen_at, now) <= policy.floor_km
    )


def _approved_locations(approved: ReportApprovedData) -> list[TrustedLocation]:
    """An approved case's locations: the last-seen point, and the trusted sightings made while
    it awaited review, which join from the first version (the zone keeps those within the
    horizon of the newest, as it does later)."""
    last_seen = TrustedLocation(
        point=approved.last_seen_point,
        at=approved.last_seen_at,
        place=approved.last_seen_place,
        heading_deg=approved.last_seen_heading_deg,
        destination=approved.last_seen_destination,
        place_names=approved.last_seen_place_names or {},
    )
    return [last_seen, *(location_of(s) for s in approved.sightings or () if s.trusted)]


def _area_as_drawn(
    case: CaseState, config: EngineConfig, now: datetime, before: DrawnBefore
) -> tuple[Area, float] | None:
    """The case's area at ``now`` from its zone drawn ``before`` the transaction, and the
    reach of its centre; None if that zone is not this one. Its drawing's fault, if it
    failed."""
    started = time.perf_counter()
    pieces = zone_at(case, config.policy, now)
    if zone_key([p.polygon for p in pieces]) != before.pieces:
        return None
    if isinstance(before.outcome, Exception):
        raise before.outcome
    area = area_of(pieces, case.facts.place, config.policy, before.outcome, case.facts.place_names)
    ZONE_SECONDS.observe(time.perf_counter() - started + before.seconds)
    return area, pieces[0].reach_km


def _drawn_area(case: CaseState, config: EngineConfig, now: datetime) -> tuple[Area, float]:
    """The case's area at ``now`` (its zone as drawn while it awaited review, if it was), and
    the reach of its centre. Pure computation on plain data: run ``off_the_loop``."""
    started = time.perf_counter()
    pieces = zone_at(case, config.policy, now)
    polygons = [p.polygon for p in pieces]
    drawn = None if config.prepared is None else config.prepared.get(polygons)
    if drawn is not None:
        PREPARED_ZONES_USED.inc()
    area = area_of(pieces, case.facts.place, config.policy, drawn, case.facts.place_names)
    ZONE_SECONDS.observe(time.perf_counter() - started)
    return area, pieces[0].reach_km


def case_state(alert: Alert) -> CaseState:
    """What the composer needs of the alert as it stands: its facts, the texts' "last seen"
    from the newest location."""
    locations = locations_of(alert)
    newest = newest_first(locations)[0]
    facts = alert.facts
    if facts.child is None:
        # Forgotten with its erased case: the alert ended, and nothing is composed from it
        # again (a case is erased only once ended, and an ended case changes no more).
        raise ValueError(f"alert {alert.id}: its case was erased")
    return CaseState(
        alert_id=alert.id,
        report_id=alert.report_id,
        message_status=alert.message_status,
        facts=CaseFacts(
            child=facts.child,
            place=newest.place,
            last_seen=newest.at,
            suspected_vehicle=facts.suspected_vehicle,
            companion=facts.companion,
            place_names=newest.place_names,
        ),
        photo_urls=facts.photo_urls,
        locations=tuple(locations),
        travel_mode=alert.travel_mode,
        effective=alert.effective,
        expires=alert.expires,
    )


def _union(pieces: Sequence[Piece]) -> shapely.Geometry:
    return shapely.union_all([p.polygon for p in pieces])


def _area_m2(pieces: Sequence[Piece]) -> float:
    return geodesic_area_m2(_union(pieces))


def locations_of(alert: Alert) -> list[TrustedLocation]:
    """The alert's trusted locations."""
    if alert.locations is None:
        # Issued before the zone was a union (migration 0003): the centre, and the place
        # name the alert showed with it.
        center = Point(lat=alert.center_lat, lon=alert.center_lon)
        return [TrustedLocation(point=center, at=alert.center_at, place=alert.facts.place)]
    return list(alert.locations)
