"""The dispatcher's tables: partners, deliveries (one per alert version and partner), attempts,
and the alerts seen (the newest version of each one still up)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    languages: Mapped[str] = mapped_column(String(64))  # space-separated
    coverage: Mapped[str | None] = mapped_column(Text, default=None)  # GeoJSON geometry
    status: Mapped[str] = mapped_column(String(16), index=True)  # unverified|active|disabled
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The handshake token and the signing secrets, sealed with the data key (shared.sealing).
    verify_token: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text, default=None)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Until when the partner asked that nothing be sent to it (``dispatcher.pauses``): a
    # Retry-After on a 429 (its request limit: only time ends it) or on a 503 (down: its
    # next 2xx ends it too). Here, not in a dispatcher's memory: every dispatcher holds it.
    throttled_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    unavailable_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    alert_id: Mapped[str] = mapped_column(String(36))
    sequence: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # the exact body POSTed, every attempt
    # pending → sending → delivered | dead | superseded (| pending again on retry/replay)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Until when the partner asked not to be sent this again: it answered 429 (too many
    # requests) with a Retry-After. Its other deliveries accepted meanwhile do not bring this
    # one forward (``catch_up.bring_forward``): that would answer a throttle with a burst.
    retry_not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

    __table_args__ = (
        UniqueConstraint("partner_id", "alert_id", "sequence", name="uq_deliveries_version"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_alert", "alert_id", "partner_id"),
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[float]
    error: Mapped[str | None] = mapped_column(Text, default=None)


class KnownAlert(Base):
    """Each alert the dispatcher has seen: its newest version while it is up, what a partner
    that becomes active then is sent (``dispatcher.live_alerts``). Once taken down, only that
    it was (no child data): a late, older version can never bring it back."""

    __tablename__ = "known_alerts"

    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer)  # the newest version seen
    event: Mapped[str | None] = mapped_column(Text)  # its event as consumed; None: taken down
    cap_url: Mapped[str | None] = mapped_column(Text)  # as partners' payloads carry it
    expires: Mapped[datetime] = mapped_column(UtcDateTime)
