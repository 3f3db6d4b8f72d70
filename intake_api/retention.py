"""Retention: a case's personal data is erased a while after the case ends.

A case ends when it is resolved, cancelled or rejected, or when its alert's window passes
(expired). ``TIFLI_RETENTION_DAYS`` later, a timer erases what intake holds about the child
and the family: the sealed fields (family name, birth date, guardian, officer, notes), the
sealed status reason, the photos' URLs, the circumstances and the sightings' descriptions
(free texts that may name people or addresses), and the place names typed beside a point
(free text too: "at his uncle's, 3 rue …"; the point stays), and the hashes its requests'
``Idempotency-Key`` records kept of what they sent. What partners were sent stays
as it was in intake's record, without the photos' URLs — they were told to delete at
Cancel — and so do the case's status, times, points and the audit of what happened, which
never held personal data. The erasure is audited too.

Several intake processes may run the timer: each takes its batch with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so they share the work instead of colliding.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_api import SOURCE
from intake_api.metrics import CASE_ACTIONS
from intake_api.models import IdempotencyRecord, Report, Sighting, append_audit_entries
from shared.clock import Clock
from shared.db import truncate_wal_once_committed
from shared.events import ReportErased, ReportRef
from shared.outbox import add_event, forget_carried
from shared.supervision import Supervisor

log = logging.getLogger(__name__)

# Statuses stored when a case ends; an approved case also ends when its window passes.
CLOSED = ("resolved", "cancelled", "rejected")
# The audit's actor for erasures by the timer (an operator's are under their key or "cli").
RETENTION_ACTOR = "retention"
ERASE_ACTION = "erase"
# Public fields kept once a case is erased: where, when and how the child went missing, and
# their age and sex, for the record of what happened; nothing that says who the child is (a
# name, a description, clothing, photos) or who is suspected (a vehicle, its plate, a
# companion).
_KEPT_CHILD = ("age", "sex")
_KEPT = ("last_seen", "travel_mode", "message_status")


def ended(status: str, expires_at: datetime | None, now: datetime) -> bool:
    """Whether the case is over (closed, or approved and past its window): retention counts from
    then."""
    return status in CLOSED or (
        status == "approved" and expires_at is not None and expires_at <= now
    )


def ended_before(moment: datetime) -> ColumnElement[bool]:
    """Cases that ended before ``moment`` and still hold personal data. A closed case's
    ``updated_at`` is when it closed (nothing changes a closed case afterwards); one closed
    after its alert's window passed (the child found once the alert expired) ended when the
    window did, so its resolution does not put the erasure off."""
    return and_(
        Report.erased_at.is_(None),
        or_(
            and_(Report.status.in_(CLOSED), Report.updated_at <= moment),
            and_(Report.status.in_((*CLOSED, "approved")), Report.expires_at <= moment),
        ),
    )


def anonymised(public: dict[str, Any]) -> dict[str, Any]:
    """Pure: a report's public part → what is kept of it once the case is erased."""
    kept = {name: public[name] for name in _KEPT if name in public}
    if isinstance(kept.get("last_seen"), dict):
        last_seen = _as_point(kept["last_seen"])
        if isinstance(last_seen.get("destination"), dict):
            last_seen["destination"] = _as_point(last_seen["destination"])
        kept["last_seen"] = last_seen
    child = public.get("child") or {}
    kept["child"] = {name: child[name] for name in _KEPT_CHILD if name in child}
    return kept


def _as_point(place: dict[str, Any]) -> dict[str, Any]:
    """A place as kept once erased: its point, without the words typed for it (a place name
    given beside a point is not looked up, so it may say whose home it is). Stored places
    all have a point (a name alone is looked up at submission)."""
    if place.get("location") is None:
        return dict(place)
    return {name: value for name, value in place.items() if name != "place_name"}


async def erase(
    session: AsyncSession, rows: list[tuple[str, str]], actor: str, now: datetime
) -> None:
    """Erases the given reports (id, public JSON), in the caller's transaction, which holds
    their rows locked; audits each erasure."""
    if not rows:
        return
    ids = [report_id for report_id, _ in rows]
    # Committed by the caller (the sweep, the API, the command line): the erased values
    # leave SQLite's write-ahead log then.
    truncate_wal_once_committed(session)
    # One prepared statement for the batch (executemany): only the anonymised public part
    # differs from case to case.
    reports = cast(Table, Report.__table__)
    await session.execute(
        update(reports)
        .where(reports.c.id == bindparam("report_id"))
        .values(public_data=bindparam("kept"), sealed_data="", status_reason=None, erased_at=now),
        [
            {
                "report_id": report_id,
                "kept": json.dumps(anonymised(json.loads(public)), ensure_ascii=False),
            }
            for report_id, public in rows
        ],
    )
    await session.execute(
        update(Sighting)
        .where(Sighting.report_id.in_(ids))
        .values(description=None, place_name=None, destination_place_name=None)
    )
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.report_id.in_(ids))
        .values(request_hash=IdempotencyRecord.ERASED)
    )
    await forget_carried(session, ids)
    # Each entry takes its place in the audit's hash chain: the batch under one lock.
    await append_audit_entries(
        session, [{"at": now, "key_id": actor, "action": ERASE_ACTION, "report_id": i} for i in ids]
    )
    # The alert engine and the dispatcher keep copies of what partners were sent: they forget
    # the child in them too.
    for report_id in ids:
        await add_event(
            session,
            ReportErased(
                source=SOURCE, subject=report_id, time=now, data=ReportRef(report_id=report_id)
            ),
        )


class RetentionTimer:
    """Erases, every ``interval_s``, the cases that ended more than ``keep`` ago. Its state
    is the database's (the cases' statuses and times): a restart loses nothing."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        keep: timedelta,
        interval_s: float,
        batch_size: int = 500,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._keep = keep
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ends the loop after the pass in hand."""
        self._stopping.set()

    async def run(self, supervisor: Supervisor) -> None:
        """Sweeps until stopped; an error in one sweep never ends the loop."""
        await supervisor.supervise(
            "retention", self._pass, self._stopping, interval_s=self._interval_s
        )

    async def erase_due(self) -> int:
        """One sweep: every case due for erasure, a batch per transaction; how many."""
        now = self._clock.now()
        query = (
            select(Report.id, Report.public_data)
            .where(ended_before(now - self._keep))
            .order_by(Report.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        total = 0
        while True:
            async with self._sessions() as session, session.begin():
                rows = [(r.id, r.public_data) for r in await session.execute(query)]
                await erase(session, rows, RETENTION_ACTOR, now)
            # Counted with the operators' erasures, as the audit names both: an operator
            # watching erasures sees the sweep's, or that it stopped.
            CASE_ACTIONS.labels(ERASE_ACTION).inc(len(rows))
            total += len(rows)
            if len(rows) < self._batch_size:
                break
        if total:
            log.info("personal data erased", extra={"cases": total})
        return total

    async def _pass(self) -> None:
        await self.erase_due()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._interval_s)
