"""Intake's tables: reports, sightings, idempotency records and the audit log (hash-chained)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from intake_api.audit_chain import entry_hash
from shared.db import Base, UtcDateTime


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    message_status: Mapped[str] = mapped_column(String(16))
    alert_id: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_by_key: Mapped[str] = mapped_column(String(16))
    # Every key that changed what partners show of the case since its submission (the child,
    # photos, vehicle, companion; before approval, where the zone is drawn), space-separated
    # in the order they first did; NULL: none. Four eyes keeps each from approving it.
    content_by_keys: Mapped[str | None] = mapped_column(Text, default=None)

    def wrote_content(self, key_id: str) -> None:
        """``key_id`` changed what partners show, or where the zone is drawn."""
        if key_id not in self.content_authors:
            self.content_by_keys = " ".join([*self.content_authors, key_id])

    @property
    def content_authors(self) -> list[str]:
        return (self.content_by_keys or "").split()

    # The unit the case belongs to (its keys see and act on it); NULL: a national case, seen by
    # national keys only (cases filed before units existed, or by a national key for no unit).
    unit: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    reviewed_by_key: Mapped[str | None] = mapped_column(String(16), default=None)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    criteria: Mapped[str | None] = mapped_column(Text, default=None)
    # The alert's time window, set at approval and extended by renewals.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Public fields as JSON; restricted fields (family name, guardian contact, notes...) sealed
    # with the data key, so a copy of the database alone does not expose them.
    public_data: Mapped[str] = mapped_column(Text)
    sealed_data: Mapped[str] = mapped_column(Text)  # "" once erased
    # When the case's personal data was erased (retention, or an operator); NULL: not yet.
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

    # In the order they were added; the id settles a tie (two added within a clock tick), so
    # that every read of a case lists them alike.
    sightings: Mapped[list[Sighting]] = relationship(
        back_populates="report",
        order_by=lambda: (Sighting.created_at, Sighting.id),
        lazy="selectin",
    )


class Sighting(Base):
    __tablename__ = "sightings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    place_name: Mapped[str | None] = mapped_column(Text, default=None)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    trusted: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_by_key: Mapped[str] = mapped_column(String(16))
    # The reporting key's unit (NULL: national); may differ from the case's unit.
    unit: Mapped[str | None] = mapped_column(String(32), default=None)
    # A direction of travel seen with the child: a heading or a destination, never both.
    heading_deg: Mapped[float | None] = mapped_column(default=None)
    destination_lat: Mapped[float | None] = mapped_column(default=None)
    destination_lon: Mapped[float | None] = mapped_column(default=None)
    destination_place_name: Mapped[str | None] = mapped_column(Text, default=None)

    report: Mapped[Report] = relationship(back_populates="sightings")


class IdempotencyRecord(Base):
    """A POST's outcome under its ``Idempotency-Key``: a retry gets the same answer. The
    report filed, or (``sighting_id`` set) the sighting added to that report."""

    # ``request_hash`` once the case is erased: the body's hash goes with the body (it would
    # confirm a guess of what the family told the police); a request under the key is then
    # a 409 naming the case, as one with another body is.
    ERASED = "erased"

    __tablename__ = "idempotency_records"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(String(36))
    sighting_id: Mapped[str | None] = mapped_column(String(36), default=None)
    # Indexed for the pruning of old records (idempotency_records.py), a batch at a time.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AuditEntry(Base):
    """Who (key id) did what to which case or key, when. Append-only; no personal data.

    ``key_id`` is the acting key, or ``cli`` for an operator at the host's command line."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    key_id: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    # The case acted on; NULL for acts on keys, which name the key in ``target_key_id``.
    report_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    target_key_id: Mapped[str | None] = mapped_column(String(16), default=None)
    # The hash chain (audit_chain.py), filled in at insert by ``_chain``.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the audit chain's last ``seq`` and hash. Locked by each append, so writers in
    several processes take turns and the chain never forks; and it shows the deletion of the
    chain's last entries, which leave no gap behind them."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


HEAD_ID = 1


def _chained(connection: Connection, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` (column values without the chain's) given their place in the chain, the
    head locked and moved past them. FOR UPDATE holds the head until the transaction ends
    (PostgreSQL); SQLite's writers are serialised already (BEGIN IMMEDIATE, shared/db.py)."""
    head = connection.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
    ).one()
    seq, last_hash, chained = head.last_seq, head.last_hash, []
    for entry in entries:
        seq += 1
        values = {"report_id": None, "target_key_id": None, **entry}
        digest = entry_hash(
            seq=seq,
            at=values["at"],
            key_id=values["key_id"],
            action=values["action"],
            report_id=values["report_id"],
            target_key_id=values["target_key_id"],
            prev_hash=last_hash,
        )
        chained.append({**values, "seq": seq, "prev_hash": last_hash, "entry_hash": digest})
        last_hash = digest
    connection.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=seq, last_hash=last_hash)
    )
    return chained


@event.listens_for(AuditEntry, "before_insert")
def _chain(_mapper: Mapper[Any], connection: Connection, entry: AuditEntry) -> None:
    # Chained where the row is written, so every writer of the audit log chains its entries.
    fields = {"at", "key_id", "action", "report_id", "target_key_id"}
    [chained] = _chained(connection, [{f: getattr(entry, f) for f in fields}])
    entry.seq, entry.prev_hash = chained["seq"], chained["prev_hash"]
    entry.entry_hash = chained["entry_hash"]


async def append_audit_entries(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Many entries at once (a sweep's): chained under one lock of the head and written in
    one statement, instead of a lock and an update of the head per entry."""
    if entries:
        connection = await session.connection()
        chained = await connection.run_sync(lambda sync: _chained(sync, entries))
        # The table, not the mapper: the rows are chained already, no per-row hook may run.
        await session.execute(insert(cast(Table, AuditEntry.__table__)), chained)
