"""The alert engine's tables: one row per alert, one per version sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.alert_contract import MessageStatus, TravelMode
from shared.db import Base, UtcDateTime


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(36), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # active | cancelled | expired
    message_status: Mapped[MessageStatus] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    facts: Mapped[str] = mapped_column(Text)  # public case facts (JSON)
    # The newest trusted location: the zone's centre.
    center_lat: Mapped[float]
    center_lon: Mapped[float]
    center_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Every trusted location of the case (JSON list: the last-seen point, accepted sightings),
    # the union's pieces. NULL for alerts issued before there were several: the centre alone.
    locations: Mapped[str | None] = mapped_column(Text, default=None)
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
