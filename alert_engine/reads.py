"""The alert read side, for the API: alerts with their current message and history.

Read-only; runs in the caller's transaction. A page's versions come in one query, whatever
its size, and only the current version's payload (the message partners hold) is read and
parsed: the history lists the others by their summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from alert_engine.models import Alert, AlertVersion
from alert_engine.schemas import AlertOut, AlertPage, VersionSummary
from shared.alert_contract import AlertMessage
from shared.loading import load_or_404
from shared.paging import page_newest_first
from shared.problems import Problem

# Said with a 404 for an alert id: the id an approval answers may be read before it exists.
_COMPOSED_AFTER = (
    "An approved report's alert is here a moment after the approval (well under a second "
    "when the services are up): if the id came from an approval just now, read it again. "
    "A case resolved or cancelled before its alert was issued never has one."
)

AlertState = Literal["active", "cancelled", "expired"]


@dataclass(frozen=True)
class ShownVersion:
    """A version as partners received it, and when the zone it shows was computed: its own
    time, or for a Cancel (which repeats the area partners were showing) the time of the
    latest version before it that computed one."""

    alert: Alert
    message: AlertMessage
    zone_computed_at: datetime


def alert_out(alert: Alert, current: AlertMessage, history: list[VersionSummary]) -> AlertOut:
    return AlertOut(
        id=alert.id,
        report_id=alert.report_id,
        state=alert.state,
        sequence=alert.sequence,
        effective=alert.effective,
        expires=alert.expires,
        radius_km=alert.radius_km,
        next_widen_at=alert.next_widen_at if alert.state == "active" else None,
        current=current,
        history=history,
    )


class AlertReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self, state: AlertState | None, limit: int, offset: int, cursor: str | None = None
    ) -> AlertPage:
        """Alerts most recently effective first (the id breaks ties), optionally in one state,
        from ``offset`` or after ``cursor``."""
        # An alert with no version was never published (its approval came after its window
        # closed, ``AlertService.issue``): nothing to show.
        query = select(Alert).where(Alert.sequence > 0).order_by(Alert.effective.desc(), Alert.id)
        if state is not None:
            query = query.where(Alert.state == state)
        page = await page_newest_first(
            self._session,
            query,
            Alert.effective,
            Alert.id,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )
        return AlertPage(
            items=await self._with_versions(page.rows),
            next_offset=page.next_offset,
            next_cursor=page.next_cursor,
        )

    async def get(self, alert_id: str) -> AlertOut:
        [out] = await self._with_versions([await self.load(alert_id)])
        return out

    async def load(self, alert_id: str) -> Alert:
        try:
            alert = await load_or_404(self._session, Alert, alert_id, "alert")
        except Problem as missing:
            # The id an approval answers names an alert the engine composes from the
            # approval's event a moment later: read at once, it may not be here yet.
            raise Problem(404, missing.title, f"{missing.detail} {_COMPOSED_AFTER}") from None
        if alert.sequence == 0:  # never published (``page``): as if not composed
            raise Problem(404, "Not found", f"Alert {alert_id} was never published.")
        return alert

    async def message(self, alert: Alert, sequence: int | None = None) -> AlertMessage:
        """Version ``sequence`` of the alert as sent (the current one by default)."""
        wanted = sequence or alert.sequence
        version = await self._session.get(AlertVersion, (alert.id, wanted))
        if version is None:
            raise Problem(404, "Not found", f"Alert {alert.id} has no version {wanted}.")
        return AlertMessage.model_validate_json(version.payload)

    async def shown_version(self, alert_id: str, sequence: int | None) -> ShownVersion:
        """Version ``sequence`` of the alert (the current one by default) with the time its
        zone was computed; a 404 problem when either is missing."""
        alert = await self.load(alert_id)
        message = await self.message(alert, sequence)
        computed_at = message.sent
        if message.msg_type == "Cancel":
            computed = await self._session.scalar(
                select(AlertVersion.sent)
                .where(
                    AlertVersion.alert_id == alert.id,
                    AlertVersion.sequence < message.sequence,
                    AlertVersion.msg_type != "Cancel",
                )
                .order_by(AlertVersion.sequence.desc())
                .limit(1)
            )
            computed_at = computed or computed_at
        return ShownVersion(alert, message, computed_at)

    async def _with_versions(self, alerts: Sequence[Alert]) -> list[AlertOut]:
        if not alerts:
            return []
        # The alert's own sequence names its current version: the engine raises both together.
        current_payload = case(
            (AlertVersion.sequence == Alert.sequence, AlertVersion.payload), else_=None
        )
        rows = await self._session.execute(
            select(
                AlertVersion.alert_id,
                AlertVersion.sequence,
                AlertVersion.msg_type,
                AlertVersion.identifier,
                AlertVersion.sent,
                current_payload,
            )
            .join(Alert, Alert.id == AlertVersion.alert_id)
            .where(AlertVersion.alert_id.in_([a.id for a in alerts]))
            .order_by(AlertVersion.alert_id, AlertVersion.sequence)
        )
        history: dict[str, list[VersionSummary]] = {a.id: [] for a in alerts}
        current: dict[str, AlertMessage] = {}
        for alert_id, sequence, msg_type, identifier, sent, payload in rows:
            history[alert_id].append(
                VersionSummary(
                    sequence=sequence, msg_type=msg_type, identifier=identifier, sent=sent
                )
            )
            if payload is not None:
                current[alert_id] = AlertMessage.model_validate_json(payload)
        return [alert_out(a, current[a.id], history[a.id]) for a in alerts]
