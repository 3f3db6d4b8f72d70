"""Which partners get an alert version, and the exact body each one receives: pure."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shapely.geometry import shape

from shared.alert_contract import AlertMessage

_WEBHOOK_NAMESPACE = uuid.UUID("0b8e3f43-1f0e-4d0c-9f7a-3c61e4a8d2b5")


def webhook_id_for(event_id: str, partner_id: str) -> str:
    """The ``webhook-id`` of one event to one partner: the same on every redelivery, so partners can
    drop duplicates."""
    # Derived, not random: the same event redelivered to the same partner is the same message.
    return "msg_" + uuid.uuid5(_WEBHOOK_NAMESPACE, f"{event_id}:{partner_id}").hex


def covers(coverage_geojson: str | None, alert: AlertMessage) -> bool:
    """Whether the alert's area reaches the partner's coverage (a partner without one takes every
    alert)."""
    if coverage_geojson is None:
        return True
    return bool(shape(json.loads(coverage_geojson)).intersects(shape(alert.area.geojson)))


def edited_body(payload: str, **top_level: Any) -> str:
    """A stored payload with some top-level fields replaced, written as ``webhook_body``
    writes it."""
    return _written(json.loads(payload) | top_level)


def _written(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def webhook_body(
    event_type: str, webhook_id: str, alert: AlertMessage, languages: list[str], cap_url: str
) -> bytes:
    """The JSON a partner receives: its languages only (the texts, and what each calls the
    area); everything else is the public alert."""
    alert_json: dict[str, Any] = alert.model_dump(mode="json")
    alert_json["info"] = [i for i in alert_json["info"] if i["language"] in languages]
    area = alert_json["area"]
    area["descriptions"] = {k: v for k, v in area["descriptions"].items() if k in languages}
    body = {"type": event_type, "id": webhook_id, "alert": alert_json, "cap_url": cap_url}
    return _written(body).encode()
