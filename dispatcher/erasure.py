"""An erased case's photos leave the payloads the dispatcher keeps (the deliveries log), as
they left intake's record and the alert engine's versions."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.models import Delivery


async def drop_photos(session: AsyncSession, alert_id: str) -> int:
    """The photos' URLs out of every payload of the alert's deliveries, in the caller's
    transaction; how many payloads changed. Only versions already taken down are kept with
    a case that can be erased (it has ended), and none of those is sent again: the new
    payloads are a record, never a POST."""
    changed = 0
    for delivery in await session.scalars(select(Delivery).where(Delivery.alert_id == alert_id)):
        body = json.loads(delivery.payload)
        alert = body.get("alert") or {}
        if alert.get("photo_urls"):
            alert["photo_urls"] = []
            delivery.payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            changed += 1
    return changed
