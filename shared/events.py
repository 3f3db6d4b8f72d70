"""Event contracts, defined once: CloudEvents 1.0 envelopes around typed, versioned data.

Rules: a type's data only ever gains optional fields; a breaking change is a new type.
The ``type`` attribute is the discriminator, so ``parse_event`` returns the exact class.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.alert_contract import (
    AlertMessage,
    InfoBlock,
    Language,
    MessageStatus,
    Point,
    PublicChild,
    TravelMode,
)

REPORTS = "reports"
ALERTS = "alerts"
DEAD_LETTER = "dead-letter"


class _Data(BaseModel):
    # Consumers ignore fields they do not know yet: that is what makes additions safe.
    model_config = ConfigDict(frozen=True, extra="ignore")


class ReportRef(_Data):
    report_id: str


class ZoneInputs(_Data):
    """Where and when the child was last seen, and how they may travel: what the zone is drawn
    from. Operational, not personal: the same facts reach partners once the case is approved."""

    point: Point
    at: datetime
    travel_mode: TravelMode
    heading_deg: float | None = None
    destination: Point | None = None


class ReportSubmittedData(ReportRef):
    message_status: MessageStatus
    # Added later, optional (older events parse): so the alert engine can draw the zone while
    # the report awaits review, and the approval does not wait for it.
    zone: ZoneInputs | None = None


class SightingAddedData(ReportRef):
    sighting_id: str
    point: Point
    place: str | None
    seen_at: datetime
    trusted: bool
    # Optional (older events parse): a direction of travel seen with the child, as above.
    heading_deg: float | None = None
    destination: Point | None = None
    # Optional (older events parse): ``place``'s name per alert language, as above.
    place_names: dict[Language, str] | None = None
    # Added later, optional likewise: the case's alert, once the case is approved (None
    # before). A sighting of an approved case that reaches the engine before its alert
    # exists (the approval failed and waits on the dead-letter topic) is kept for it.
    alert_id: str | None = None


# An approval carries at most this many trusted sightings, the newest, and a zone is drawn
# around at most these and the last-seen place. The zone is the newest locations' (older ones
# leave the sighting horizon long before a hundred), and an event must stay far below the
# broker's message limit (1 MB; a sighting takes 2 KB at most): the relay publishes in order,
# so one event too large would hold back every event behind it, other children's take-downs
# included.
CARRIED_SIGHTINGS = 100


class ReportApprovedData(ReportRef):
    """Everything the alert engine needs, and nothing restricted: restricted fields never leave
    intake."""

    alert_id: str
    approved_at: datetime
    message_status: MessageStatus
    child: PublicChild
    photo_urls: list[str]
    last_seen_point: Point
    last_seen_place: str | None
    last_seen_at: datetime
    travel_mode: TravelMode
    suspected_vehicle: str | None
    companion: str | None
    # Added in v1 (optional, so older events still parse): the end of the time window the
    # reviewer approved; consumers fall back to approved_at + their own TTL.
    expires_at: datetime | None = None
    # Added later, optional likewise: a known direction of travel from the last-seen point,
    # a heading (degrees clockwise from north) or a destination, never both. Operational data.
    last_seen_heading_deg: float | None = None
    last_seen_destination: Point | None = None
    # Added later, optional likewise: the last-seen place's name in each alert language, from
    # the gazetteer, when the name designates a known place (each text names it in its own
    # language); absent, texts use ``last_seen_place`` as typed.
    last_seen_place_names: dict[Language, str] | None = None
    # Added later, optional likewise: the trusted sightings made while the case awaited
    # review (the newest ``CARRIED_SIGHTINGS``). Their own events reached the engine before
    # any alert existed; the first version's zone and texts must count them (the newest
    # drives the texts' place and time).
    sightings: list[SightingAddedData] | None = None


class ReportCorrectedData(ReportRef):
    """A case's details corrected (a photo added, a description or a name put right): its
    public description as it now stands, and nothing restricted. Where and when the child was
    last seen is not in it: that is corrected only before approval, which carries it."""

    child: PublicChild
    photo_urls: list[str]
    suspected_vehicle: str | None
    companion: str | None
    # Added later, optional (older events parse): the case's alert, once the case is approved
    # (None before: the approval will carry the corrected case). A correction that reaches
    # the engine before that alert exists (its approval parked) is kept for it.
    alert_id: str | None = None


class ReportRenewedData(ReportRef):
    renewed_at: datetime
    expires_at: datetime


class ReportRejectedData(ReportRef):
    """No reason travels: it is a restricted note, kept in intake. Events from older versions
    that still carry one parse all the same (unknown fields are ignored)."""


class ReportClosedData(ReportRef):
    """Resolved (the child is found) or cancelled (withdrawn): the alert comes down now."""

    closed_at: datetime
    reason: str | None = None


class AlertEventData(_Data):
    alert: AlertMessage


class _Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    subject: str = Field(description="The case or alert id; also the partition key.")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    dataversion: Literal[1] = 1


class ReportSubmitted(_Envelope):
    type: Literal["report.submitted"] = "report.submitted"
    data: ReportSubmittedData


class ReportApproved(_Envelope):
    type: Literal["report.approved"] = "report.approved"
    data: ReportApprovedData


class ReportRejected(_Envelope):
    type: Literal["report.rejected"] = "report.rejected"
    data: ReportRejectedData


class ReportResolved(_Envelope):
    type: Literal["report.resolved"] = "report.resolved"
    data: ReportClosedData


class ReportCancelled(_Envelope):
    type: Literal["report.cancelled"] = "report.cancelled"
    data: ReportClosedData


class ReportCorrected(_Envelope):
    type: Literal["report.corrected"] = "report.corrected"
    data: ReportCorrectedData


class ReportRenewed(_Envelope):
    type: Literal["report.renewed"] = "report.renewed"
    data: ReportRenewedData


class SightingAdded(_Envelope):
    type: Literal["report.sighting_added"] = "report.sighting_added"
    data: SightingAddedData


class ReportErased(_Envelope):
    """The case's personal data was erased (its retention time, or an operator): the services
    that keep copies of what partners were sent forget the child in them too."""

    type: Literal["report.erased"] = "report.erased"
    data: ReportRef


class AlertRef(_Data):
    alert_id: str


class AlertErasedData(AlertRef):
    # The texts that stand in for the versions' own (``AlertMessage.forgotten``), one per
    # language; absent from events of earlier releases, which only dropped the photos.
    info: list[InfoBlock] | None = None


class AlertErased(_Envelope):
    """The alert engine forgot an erased case's child in its versions: the dispatcher does
    the same in the payloads it keeps."""

    type: Literal["alert.erased"] = "alert.erased"
    data: AlertErasedData


class AlertIssued(_Envelope):
    type: Literal["alert.issued"] = "alert.issued"
    data: AlertEventData


class AlertUpdated(_Envelope):
    type: Literal["alert.updated"] = "alert.updated"
    data: AlertEventData


class AlertCancelled(_Envelope):
    type: Literal["alert.cancelled"] = "alert.cancelled"
    data: AlertEventData


class AlertExpired(_Envelope):
    type: Literal["alert.expired"] = "alert.expired"
    data: AlertEventData


ReportEvent = (
    ReportSubmitted
    | ReportApproved
    | ReportRejected
    | ReportResolved
    | ReportCancelled
    | ReportRenewed
    | ReportCorrected
    | SightingAdded
    | ReportErased
)
AlertEvent = AlertIssued | AlertUpdated | AlertCancelled | AlertExpired
Event = Annotated[ReportEvent | AlertEvent | AlertErased, Field(discriminator="type")]

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(raw: bytes | str) -> Event:
    """Raises ``pydantic.ValidationError`` for anything that is not a known event: poison."""
    return _EVENT_ADAPTER.validate_json(raw)


def serialize_event(event: Event) -> bytes:
    """The event as bytes for the bus (its JSON)."""
    return event.model_dump_json().encode()


def topic_of(event: Event) -> str:
    """The topic an event travels on: report events and alert events each have their own."""
    return REPORTS if event.type.startswith("report.") else ALERTS
