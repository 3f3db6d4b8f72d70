"""The public alert, as partners receive it (modelled on OASIS CAP 1.2).

Only public fields live here: this model *is* the privacy boundary. Family name, guardian
contact, case notes and officer identities have no field to travel in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MessageStatus = Literal["Actual", "Exercise", "Test"]
MsgType = Literal["Alert", "Update", "Cancel"]
TravelMode = Literal["foot", "vehicle", "public_transport", "unknown"]
Sex = Literal["female", "male", "unknown"]
Language = Literal["ar", "fr", "zgh", "en"]
# Every alert language, in the order an alert gives its texts.
LANGUAGES: tuple[Language, ...] = ("ar", "fr", "zgh", "en")
Targeting = Literal["polygon", "geocodes"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Point(_Frozen):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class InfoBlock(_Frozen):
    """One CAP ``info`` per language; lengths are the WEA limits."""

    language: Language
    headline: str = Field(max_length=160)
    description: str = Field(max_length=360)
    short_text: str = Field(max_length=90)
    instruction: str = Field(max_length=360)


class PublicChild(_Frozen):
    given_name: str
    age: int
    sex: Sex
    description: str
    clothing: str | None = None


class LastSeen(_Frozen):
    place: str | None
    point: Point
    time: datetime
    # The known direction of travel, degrees clockwise from north (from a heading, or towards
    # a destination): it tells people which way to look. Operational, not personal.
    heading_deg: float | None = Field(default=None, ge=0, lt=360)


class Circle(_Frozen):
    center: Point
    radius_km: float


class GeocodeShare(_Frozen):
    """An administrative area the zone touches, with the share of the zone inside it."""

    code: str  # ISO 3166-2, e.g. "MA-06" (region) or "MA-CAS" (province)
    kind: Literal["region", "province"]
    name_ar: str
    name_fr: str
    share: float = Field(ge=0, le=1)


class Area(_Frozen):
    description: str
    # ``description`` in each language (CAP's areaDesc of that language's info): a place in
    # that language's spelling where the gazetteer knows it. Empty in payloads from before.
    descriptions: dict[Language, str] = Field(default_factory=dict)
    geojson: dict[str, Any]
    # The newest trusted location's circle; ``circles`` has one per location in the zone's
    # union (empty in payloads from before there were several). Each circle lies inside the
    # zone: CAP consumers union circles with the polygon, so none may claim more than it.
    circle: Circle
    circles: list[Circle] = Field(default_factory=list)
    geocodes: list[str] = Field(default_factory=list)
    geocode_shares: list[GeocodeShare] = Field(default_factory=list)  # same order as geocodes
    vertex_count: int
    overshoot_land_m: float
    overshoot_sea_m: float
    # What to target by: "polygon" when its overshoot onto land is within the 161 m of the
    # FCC rule for Wireless Emergency Alerts; "geocodes" when the vertex budget could not
    # follow the borders that closely and the listed areas target better.
    targeting: Targeting = "polygon"


class AlertMessage(_Frozen):
    identifier: str
    alert_id: str
    report_id: str
    sequence: int = Field(ge=1)
    msg_type: MsgType
    references: list[str] = Field(default_factory=list)
    status: MessageStatus
    sender: str
    sent: datetime
    effective: datetime
    expires: datetime
    event: str = "Child Abduction Emergency"
    urgency: Literal["Immediate", "Expected", "Past"] = "Immediate"
    severity: Literal["Extreme", "Severe", "Moderate", "Minor"] = "Severe"
    certainty: Literal["Observed", "Likely", "Possible"] = "Likely"
    info: list[InfoBlock]
    # A Cancel carries no child data: it tells partners to take the alert down and delete it.
    child: PublicChild | None
    last_seen: LastSeen | None
    suspected_vehicle: str | None = None
    companion: str | None = None
    contact: str
    photo_urls: list[str] = Field(default_factory=list)
    area: Area

    def forgotten(self, texts: list[InfoBlock]) -> AlertMessage:
        """This version as kept once its case is erased (its retention time, or an operator):
        nothing in it says who the child is, nor who is suspected (the child, the vehicle and
        its plate, the companion, the photos), and ``texts``, which name no one (the
        take-down's), stand in for its own. Where, when and how far stay: what happened."""
        return self.model_copy(
            update={
                "child": None,
                "suspected_vehicle": None,
                "companion": None,
                "photo_urls": [],
                "info": texts,
            }
        )
