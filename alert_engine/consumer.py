"""The alert engine's event handler: report events in, alert versions (via the outbox) out."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alert_engine.service import (
    AlertService,
    DrawnBefore,
    EngineConfig,
    draw_before,
    draw_for_approval,
    drawn_at_submission,
    live_or_expired,
    off_the_loop,
    prepare_for_review,
    update_locations,
)
from shared.bus import Message
from shared.clock import Clock
from shared.events import (
    ReportApproved,
    ReportCancelled,
    ReportCorrected,
    ReportCorrectedData,
    ReportErased,
    ReportRenewed,
    ReportRenewedData,
    ReportResolved,
    ReportSubmitted,
    SightingAdded,
    SightingAddedData,
    parse_event,
)
from shared.inbox import ProcessedEvent, first_delivery

GROUP = "alert-engine"


class ReportEventHandler:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], config: EngineConfig, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock

    async def __call__(self, message: Message) -> None:
        event = parse_event(message.value)  # a ValidationError here is poison: dead-lettered
        now = self._clock.now()
        # Approved or renewed, then resolved or cancelled, while the engine or the broker was
        # away (or both parked and sent again): both arrive together. Issued or revived now,
        # the alert would show partners a found child's name and photo until the Cancel
        # behind it. The closing comes next and takes down what is up.
        closing_behind = isinstance(event, ReportApproved | ReportRenewed) and (
            closed_right_behind(message, event.data.report_id)
        )
        drawn = None
        if isinstance(event, ReportSubmitted):
            # Nothing to show anyone yet: the zone is drawn now, while the report awaits
            # review, so that an approval does not wait for it. Drawing needs no database
            # (and is idempotent): it is done before a transaction holds a connection, and in
            # the zone-drawing thread, not on the event loop that the other handlers share.
            await off_the_loop(prepare_for_review, self._config, event.data, now)
        elif (
            isinstance(event, ReportApproved)
            and not closing_behind
            and not drawn_at_submission(self._config, event.data, now)
        ):
            # Not drawn at submission (the radius has grown since, or sightings joined): drawn
            # before the transaction too, which then holds the database for milliseconds, not
            # for the drawing.
            drawn = await off_the_loop(draw_for_approval, self._config, event.data, now)
        elif (
            isinstance(event, SightingAdded | ReportCorrected | ReportRenewed)
            and not closing_behind
        ):
            # An Update's zone, likewise (where the database has one writer).
            drawn = await self._drawn_for_update(event.id, event.data, now)
        async with self._sessions() as session, session.begin():
            if not await first_delivery(session, GROUP, event.id, now):
                return
            service = AlertService(session, self._config, now)
            match event:
                case ReportApproved() if closing_behind:
                    await service.close_unpublished(event.data.report_id)
                case ReportApproved():
                    await service.issue(event.data, drawn)
                case ReportResolved() | ReportCancelled():
                    # A found child pre-empts everything: the Cancel goes out now.
                    await service.cancel(event.data.report_id)
                case SightingAdded():
                    await service.add_sighting(event.data, drawn)
                case ReportRenewed() if closing_behind:
                    service.renewal_of_a_closing_case(event.data.report_id)
                case ReportRenewed():
                    await service.renew(event.data, drawn)
                case ReportCorrected():
                    await service.correct(event.data, drawn)
                case ReportErased():
                    await service.forget_child(event.data.report_id)
                case _:
                    pass  # submitted (its zone drawn above), rejected: nothing to show anyone

    async def _drawn_for_update(
        self,
        event_id: str,
        change: SightingAddedData | ReportCorrectedData | ReportRenewedData,
        now: datetime,
    ) -> DrawnBefore | None:
        """The zone of the Update this change brings, if it brings one, drawn before its
        transaction (``draw_before``), from the case's alert as read now without locking it
        (``update_locations``: the transaction decides again, on the locked alert)."""
        if not self._config.updates_drawn_ahead:
            return None
        async with self._sessions() as session:
            if await session.get(ProcessedEvent, (GROUP, event_id)) is not None:
                return None  # handled already: the event came again
            alert = (await session.scalars(live_or_expired(change.report_id))).one_or_none()
        # Decided once the read is over: in the embedded mode it holds SQLite's one writer.
        locations = None if alert is None else update_locations(alert, change, self._config, now)
        if alert is None or locations is None:
            return None
        travel_mode = alert.travel_mode
        return await off_the_loop(
            draw_before, self._config, change.report_id, locations, travel_mode, now
        )


def closed_right_behind(message: Message, report_id: str) -> bool:
    """Whether the case's resolution or cancellation is among the messages fetched behind
    this one (``Message.later``: one key, one partition, so a case's events are in order)."""
    for later in message.later:
        if later.key != message.key:
            continue
        try:
            event = parse_event(later.value)
        except ValidationError:
            continue  # poison: dead-lettered in its own turn
        if (
            isinstance(event, ReportResolved | ReportCancelled)
            and event.data.report_id == report_id
        ):
            return True
    return False
