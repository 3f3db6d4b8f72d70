"""The alert engine's tables: one row per alert, one per version sent, one per case closed,
one per renewal, correction or sighting that came before its case's alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from alert_engine.locations import TrustedLocation
from shared.alert_contract import MessageStatus, PublicChild, TravelMode
from shared.db import Base, UtcDateTime
from shared.events import ReportCorrectedData, SightingAddedData

T = TypeVar("T")


class StoredJson(TypeDecorator[T], Generic[T]):
    """A typed value in a text column as JSON: validated on load, so the engine works with
    models and never with parsed dictionaries."""

    impl = Text
    cache_ok = True

    def __init__(self, value_type: Any) -> None:
        super().__init__()
        self.value_type = value_type  # part of SQLAlchemy's cache key: hashable
        self._adapter: TypeAdapter[T] = TypeAdapter(value_type)

    def process_bind_param(self, value: T | None, dialect: Any) -> str | None:
        return None if value is None else self._adapter.dump_json(value).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> T | None:
        return None if value is None else self._adapter.validate_json(value)


class ApprovedFacts(BaseModel):
    """What the reviewer approved about the case that no sighting changes: the public
    description partners show. ``place`` is the report's, kept for rows without locations."""

    model_config = ConfigDict(frozen=True)

    child: PublicChild | None  # None once the case is erased (``forgotten``)
    place: str | None
    suspected_vehicle: str | None
    companion: str | None
    photo_urls: list[str]

    def forgotten(self) -> ApprovedFacts:
        """What is kept once the case is erased: no one named, described or pictured."""
        return self.model_copy(
            update={"child": None, "suspected_vehicle": None, "companion": None, "photo_urls": []}
        )


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(36), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # active | cancelled | expired
    message_status: Mapped[MessageStatus] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    facts: Mapped[ApprovedFacts] = mapped_column(StoredJson(ApprovedFacts))
    # The newest trusted location: the zone's centre.
    center_lat: Mapped[float]
    center_lon: Mapped[float]
    center_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Every trusted location of the case (the last-seen point, accepted sightings), the
    # union's pieces. NULL for alerts issued before there were several: the centre alone.
    locations: Mapped[list[TrustedLocation] | None] = mapped_column(
        StoredJson(list[TrustedLocation]), default=None
    )
    travel_mode: Mapped[TravelMode] = mapped_column(String(24))
    radius_km: Mapped[float]
    effective: Mapped[datetime] = mapped_column(UtcDateTime)
    expires: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # When the engine next re-computes the zone; timers live here, so they survive restarts.
    next_widen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertVersion(Base):
    __tablename__ = "alert_versions"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    msg_type: Mapped[str] = mapped_column(String(8))
    identifier: Mapped[str] = mapped_column(String(120))
    sent: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str] = mapped_column(Text)  # the AlertMessage as sent (JSON)


class ClosedReport(Base):
    """A case the engine learnt was closed (the child found, the report withdrawn or erased).

    Events of one case normally arrive in order; but one that failed and was parked on the
    dead-letter topic comes back only when sent again (``tifli events redrive``, or the
    embedded mode's restart), after the ones that followed it. An approval or a renewal
    coming back after the case closed must not put an alert up for a child who was found."""

    __tablename__ = "closed_reports"

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EarlyRenewal(Base):
    """A renewal the engine handled while its case had no alert yet: the approval had failed
    and was parked on the dead-letter topic, and the reviewer extended the window meanwhile.

    Sent again later (``tifli events redrive``), the approval carries the window it was
    approved with; the case's window is the renewed one. Without this row, an approval sent
    again after the first window but within the renewed one would put no alert up (its window
    over, ``AlertService.issue``) while intake shows the case live."""

    __tablename__ = "early_renewals"

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the latest renewed window's end
    renewed_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when, for pruning


class EarlyChange(Base):
    """A correction or a trusted sighting of an approved case that the engine handled while
    the case had no alert yet: the approval had failed and was parked on the dead-letter
    topic, and the unit went on working the case meanwhile.

    Sent again later (``tifli events redrive``), the approval carries the case as it was
    approved; without these rows its alert would go up with the description since put right
    and without the places the child was seen since. They join its first version, and are
    deleted then (or with the case's erasure: a correction describes the child)."""

    __tablename__ = "early_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # their order
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime)  # for pruning
    # One of the two.
    correction: Mapped[ReportCorrectedData | None] = mapped_column(
        StoredJson(ReportCorrectedData), default=None
    )
    sighting: Mapped[SightingAddedData | None] = mapped_column(
        StoredJson(SightingAddedData), default=None
    )
