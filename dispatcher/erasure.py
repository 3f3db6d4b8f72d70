"""An erased case's photos leave the payloads the dispatcher keeps (the deliveries log), as
they left intake's record and the alert engine's versions."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.fanout import edited_body
from dispatcher.models import Delivery, KnownAlert


async def drop_photos(session: AsyncSession, alert_id: str) -> int:
    """The photos' URLs out of every payload of the alert's deliveries, and out of its newest
    version kept for partners that join, in the caller's transaction; how many payloads
    changed. A case is erased once ended: what may still go out of it is its take-down,
    which carries no photo."""
    changed = 0
    for delivery in await session.scalars(select(Delivery).where(Delivery.alert_id == alert_id)):
        alert = json.loads(delivery.payload).get("alert") or {}
        if alert.get("photo_urls"):
            delivery.payload = edited_body(delivery.payload, alert=alert | {"photo_urls": []})
            changed += 1
    # The alert's newest version kept for partners that join (``live_alerts``), if still up.
    known = await session.get(KnownAlert, alert_id)
    if known is not None and known.event is not None:
        event = json.loads(known.event)
        event["data"]["alert"]["photo_urls"] = []
        known.event = json.dumps(event, ensure_ascii=False)
    return changed
