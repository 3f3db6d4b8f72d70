"""Response bodies of the alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from shared.alert_contract import AlertMessage, MsgType


class VersionSummary(BaseModel):
    sequence: int
    msg_type: MsgType
    identifier: str
    sent: datetime


class AlertOut(BaseModel):
    id: str
    report_id: str
    state: Literal["active", "cancelled", "expired"]
    sequence: int
    effective: datetime
    expires: datetime
    radius_km: float
    current: AlertMessage
    history: list[VersionSummary]


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_offset: int | None
