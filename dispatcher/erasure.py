"""An erased case's child leaves the payloads the dispatcher keeps (the deliveries log, the
newest version kept for partners that join), as it left intake's record and the alert
engine's versions (``AlertMessage.forgotten``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.fanout import edited_body
from dispatcher.models import Delivery, KnownAlert
from shared.alert_contract import AlertMessage, InfoBlock
from shared.db import truncate_wal_once_committed


def forgotten(alert: dict[str, Any], texts: Sequence[InfoBlock] | None) -> dict[str, Any]:
    """Pure: a payload's alert as ``AlertMessage.forgotten`` keeps it, its texts replaced by
    ``texts`` in the languages the payload has (a partner gets its own languages only).
    Without ``texts`` (an event of an earlier release, which sent none), its own are kept."""
    message = AlertMessage.model_validate(alert)
    by_language = {t.language: t for t in texts or ()}
    kept = message.forgotten([by_language.get(i.language, i) for i in message.info])
    return kept.model_dump(mode="json")


async def forget_child(
    session: AsyncSession, alert_id: str, texts: Sequence[InfoBlock] | None
) -> int:
    """The child out of every payload of the alert's deliveries, and out of its newest
    version kept for partners that join, in the caller's transaction; how many payloads
    changed. A case is erased once ended: what may still go out of it is its take-down,
    which carries no child data."""
    truncate_wal_once_committed(session)
    changed = 0
    for delivery in await session.scalars(select(Delivery).where(Delivery.alert_id == alert_id)):
        alert = json.loads(delivery.payload).get("alert") or {}
        if alert:
            delivery.payload = edited_body(delivery.payload, alert=forgotten(alert, texts))
            changed += 1
    # The alert's newest version kept for partners that join (``live_alerts``), if still up.
    known = await session.get(KnownAlert, alert_id)
    if known is not None and known.event is not None:
        event = json.loads(known.event)
        event["data"]["alert"] = forgotten(event["data"]["alert"], texts)
        known.event = json.dumps(event, ensure_ascii=False)
    return changed
