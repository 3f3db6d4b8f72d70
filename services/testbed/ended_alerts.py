"""Rows of alerts that have ended, written straight to the database: what list tests and
benchmarks page through without the engine's timers acting on them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from alert_engine.models import Alert, AlertVersion, ApprovedFacts
from shared.alert_contract import PublicChild
from shared.alert_example import ALERT_MESSAGE_EXAMPLE

# What the engine keeps of an approved case; the lists read none of it.
SEEDED_FACTS = ApprovedFacts(
    child=PublicChild.model_validate(ALERT_MESSAGE_EXAMPLE["child"]),
    place="Casablanca",
    suspected_vehicle=None,
    companion=None,
    photo_urls=[],
)


def ended_alert_rows(
    alert_id: str,
    versions: int,
    *,
    effective: datetime,
    expires: datetime,
    state: str = "expired",
    radius_km: float = 160.0,
) -> list[Alert | AlertVersion]:
    """An ended Exercise alert and its versions (an Alert, then Updates, identified
    ``{alert_id}-v{n}`` and sent a second apart from ``effective``)."""
    rows: list[Alert | AlertVersion] = [
        Alert(
            id=alert_id,
            report_id=f"report-of-{alert_id}",
            state=state,
            message_status="Exercise",
            sequence=versions,
            facts=SEEDED_FACTS,
            center_lat=33.57,
            center_lon=-7.59,
            center_at=effective,
            travel_mode="vehicle",
            radius_km=radius_km,
            effective=effective,
            expires=expires,
            updated_at=expires,
        )
    ]
    for sequence in range(1, versions + 1):
        message = ALERT_MESSAGE_EXAMPLE | {
            "alert_id": alert_id,
            "sequence": sequence,
            "msg_type": "Alert" if sequence == 1 else "Update",
            "identifier": f"{alert_id}-v{sequence}",
        }
        rows.append(
            AlertVersion(
                alert_id=alert_id,
                sequence=sequence,
                msg_type=message["msg_type"],
                identifier=message["identifier"],
                sent=effective + timedelta(seconds=sequence),
                payload=json.dumps(message),
            )
        )
    return rows
