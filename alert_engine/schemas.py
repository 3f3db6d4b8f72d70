"""Response bodies of the alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.alert_contract import AlertMessage, MsgType
from shared.alert_example import ALERT_MESSAGE_EXAMPLE

# The highest version a CAP request may name: far beyond any alert's count of updates, and
# well inside what the database's integers hold (a larger one would be a driver error).
MAX_SEQUENCE = 1_000_000

_VERSION_EXAMPLE = {
    "sequence": 1,
    "msg_type": "Alert",
    "identifier": ALERT_MESSAGE_EXAMPLE["identifier"],
    "sent": ALERT_MESSAGE_EXAMPLE["sent"],
}
_ALERT_EXAMPLE = {
    "id": ALERT_MESSAGE_EXAMPLE["alert_id"],
    "report_id": ALERT_MESSAGE_EXAMPLE["report_id"],
    "state": "active",
    "sequence": 1,
    "effective": ALERT_MESSAGE_EXAMPLE["effective"],
    "expires": ALERT_MESSAGE_EXAMPLE["expires"],
    "radius_km": 160.0,
    "next_widen_at": "2026-11-29T15:05:00Z",  # an hour after it went out, by default
    "current": ALERT_MESSAGE_EXAMPLE,
    "history": [_VERSION_EXAMPLE],
}


class VersionSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_VERSION_EXAMPLE]})

    sequence: int
    msg_type: MsgType
    identifier: str
    sent: datetime


class AlertOut(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra={"examples": [_ALERT_EXAMPLE]},
    )

    id: str
    report_id: str
    state: Literal["active", "cancelled", "expired"]
    sequence: int
    effective: datetime
    expires: datetime
    radius_km: float
    next_widen_at: datetime | None = Field(
        default=None,
        description="When the engine next re-computes the growing zone (an Update follows if "
        "it grew enough); null once the alert has ended.",
    )
    current: AlertMessage
    history: list[VersionSummary]


class AlertPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_ALERT_EXAMPLE], "next_offset": None, "next_cursor": None}]
        }
    )

    items: list[AlertOut]
    next_offset: int | None
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
