"""Request and response bodies of the partner and delivery APIs."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from shapely.geometry import shape

from shared.alert_contract import LANGUAGES, AlertMessage, Language
from shared.alert_example import ALERT_MESSAGE_EXAMPLE
from shared.input_types import SINGLE_LINE, Number

# Examples the OpenAPI document shows (valid as shown: the URL is HTTPS on a public name).
_PARTNER_IN_EXAMPLE: dict[str, Any] = {
    "name": "Metabook",
    "url": "https://webhooks.metabook.example/tifli",
    "verify_token": "a-token-the-partner-chose",
    "languages": ["ar", "fr", "zgh", "en"],
}
_PARTNER_EXAMPLE = {
    "id": "7d1f0c52-9a4b-4e1a-b3c7-2f8e6d5a4c31",
    "name": "Metabook",
    "url": "https://webhooks.metabook.example/tifli",
    "languages": ["ar", "fr", "zgh", "en"],
    "coverage": None,
    "status": "active",
    "status_reason": None,
    "created_at": "2026-11-29T09:00:00Z",
    "verified_at": "2026-11-29T09:00:01Z",
    "secret_rotation_ends": None,
    "paused_until": None,
    "paused_by": None,
}
_SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
_ATTEMPT_EXAMPLE = {
    "at": "2026-11-29T14:05:00.120Z",
    "status_code": 200,
    "latency_ms": 42.7,
    "error": None,
}
_DELIVERY_EXAMPLE = {
    "id": "c3a1e9f0-5b7d-4c2e-8a6f-1d4b9e7c2a58",
    "webhook_id": "msg_2f8e6d5a4c317d1f0c529a4b9e7c2a58",
    "partner_id": _PARTNER_EXAMPLE["id"],
    "alert_id": ALERT_MESSAGE_EXAMPLE["alert_id"],
    "sequence": 1,
    "event_type": "alert.issued",
    "status": "delivered",
    "attempts": 1,
    "next_attempt_at": "2026-11-29T14:05:00Z",
    "deadline": "2026-11-30T14:05:00Z",
    "last_status_code": 200,
    "last_error": None,
    "created_at": "2026-11-29T14:05:00.080Z",
    "delivered_at": "2026-11-29T14:05:00.163Z",
    "attempt_log": [_ATTEMPT_EXAMPLE],
}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# A registration's fields, as registered and as corrected (``PartnerPatch``).
PartnerName = Annotated[str, StringConstraints(min_length=1, max_length=200), SINGLE_LINE]
WebhookUrl = Annotated[str, StringConstraints(min_length=8, max_length=2000), SINGLE_LINE]
VerifyToken = Annotated[str, StringConstraints(min_length=8, max_length=200), SINGLE_LINE]


class PartnerIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [_PARTNER_IN_EXAMPLE]},
    )

    name: PartnerName
    url: WebhookUrl
    verify_token: VerifyToken = Field(
        description="The token the partner expects in hub.verify_token during the handshake."
    )
    languages: list[Language] = Field(
        default_factory=lambda: list(LANGUAGES),
        min_length=1,
        json_schema_extra={"uniqueItems": True},
    )
    coverage: dict[str, Any] | None = Field(
        default=None,
        description="The area the partner serves, a GeoJSON Polygon or MultiPolygon; alerts "
        "whose zone misses it are not sent.",
    )

    @field_validator("languages")
    @classmethod
    def _each_once(cls, value: list[Language]) -> list[Language]:
        if len(set(value)) != len(value):
            raise ValueError("each language once")
        return value

    @field_validator("coverage")
    @classmethod
    def _valid_geometry(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        # An area, so a fixed depth: a collection nested a hundred deep passed shapely and
        # then failed when the answer was written, with the partner already registered.
        if value.get("type") not in _AREA_TYPES:
            raise ValueError("the coverage is a GeoJSON Polygon or MultiPolygon")
        # Before shapely sees them: it would read true as 1.0 and "7" as 7.0.
        _check_coordinates(value)
        try:
            geometry = shape(value)
        except Exception as exc:
            raise ValueError(f"not a GeoJSON geometry: {exc}") from None
        if geometry.is_empty or not geometry.is_valid:
            raise ValueError("the coverage geometry is empty or invalid")
        return area_only(value)


def area_only(coverage: dict[str, Any]) -> dict[str, Any]:
    """A coverage's area, without the GeoJSON object's other members (a name, a "bbox"):
    nothing the dispatcher reads, and any text among them would be stored unchecked (as it
    was, and still is in registrations made before: read back, they are left out)."""
    return {"type": coverage["type"], "coordinates": coverage["coordinates"]}


# What a partner's correction may not set to null (only its coverage can be removed).
_NOT_NULL = ("name", "url", "verify_token", "languages")


def _patch_schema(schema: dict[str, Any]) -> None:
    """The correction's schema as it is checked: each field optional, and null only for the
    coverage (the model takes None for "not given"; a null given is refused on applying)."""
    for name in _NOT_NULL:
        field = schema["properties"][name]
        options = [o for o in field.pop("anyOf", []) if o.get("type") != "null"]
        field.pop("default", None)
        if options:
            field.update(options[0])
    schema["examples"] = [{"url": "https://hooks.partner.example/v2/tifli"}]


class PartnerPatch(BaseModel):
    """A partner's registration corrected: the fields given replace the stored ones; a
    coverage given as null removes it (every alert is then sent)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_patch_schema
    )

    name: PartnerName | None = None
    url: WebhookUrl | None = None
    verify_token: VerifyToken | None = None
    languages: list[Language] | None = Field(
        default=None, min_length=1, json_schema_extra={"uniqueItems": True}
    )
    coverage: dict[str, Any] | None = None


def patch_applied(patch: PartnerPatch, current: PartnerIn) -> PartnerIn:
    """The registration with ``patch`` applied, checked as a new one would be (a
    ``ValidationError`` naming each field at fault; a null where a value is required too)."""
    given = patch.model_dump(include=patch.model_fields_set)
    return PartnerIn.model_validate({**current.model_dump(), **given})


_AREA_TYPES = ("Polygon", "MultiPolygon")
# RFC 7946: positions are [longitude, latitude] in WGS84 degrees.
_LON, _LAT = 180.0, 90.0


def _check_coordinates(geometry: dict[str, Any]) -> None:
    """Every position of the geometry (and of a collection's members) is two or three finite
    numbers with the longitude and latitude in range."""
    # A loop, not recursion: a body nested deeply enough would exhaust the stack.
    pending: list[Any] = []
    geometries: list[Any] = [geometry]
    while geometries:
        member = geometries.pop()
        if not isinstance(member, dict):
            raise ValueError("a geometry is a GeoJSON object")
        if isinstance(member.get("geometries"), list):
            geometries.extend(member["geometries"])
        else:
            pending.append(member.get("coordinates"))
    while pending:
        item = pending.pop()
        if not isinstance(item, list) or not item:
            raise ValueError("coordinates must be nested arrays of [lon, lat] positions")
        if isinstance(item[0], list):
            pending.extend(item)
            continue
        _check_position(item)


def _check_position(position: list[Any]) -> None:
    if not 2 <= len(position) <= 3 or not all(
        isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
        for n in position
    ):
        raise ValueError("a position is [lon, lat] (or [lon, lat, altitude]) in numbers")
    lon, lat = position[0], position[1]
    if not (-_LON <= lon <= _LON and -_LAT <= lat <= _LAT):
        raise ValueError("a position is [lon, lat] with -180 ≤ lon ≤ 180 and -90 ≤ lat ≤ 90")


PartnerStatus = Literal["unverified", "active", "disabled"]


class PartnerOut(BaseModel):
    model_config = _examples(_PARTNER_EXAMPLE)

    id: str
    name: str
    url: str
    languages: list[Language]
    coverage: dict[str, Any] | None
    status: PartnerStatus
    status_reason: str | None
    created_at: datetime
    verified_at: datetime | None
    secret_rotation_ends: datetime | None
    paused_until: datetime | None = Field(
        description="Until when nothing is sent to the partner, take-downs included: it "
        "answered a Retry-After (capped at an hour), which holds every delivery to it, from "
        "every dispatcher. Null: not paused."
    )
    paused_by: Literal[429, 503] | None = Field(
        description="What asked for the pause: 429, the partner's request limit (only time "
        "ends it), or 503, the partner down (its next 2xx ends it too: a delivery, a test "
        "event, a handshake passed)."
    )


class PartnerWithSecret(PartnerOut):
    model_config = _examples({**_PARTNER_EXAMPLE, "secret": _SECRET_EXAMPLE})

    secret: str = Field(description="Shown once. Verify both signatures with it.")


class PartnerPage(BaseModel):
    model_config = _examples({"items": [_PARTNER_EXAMPLE], "next_offset": None})

    items: list[PartnerOut]
    next_offset: int | None


class RotateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"overlap_hours": 24}]}
    )
    overlap_hours: Number = Field(
        default=24.0, ge=0, le=24 * 30, description="How long the old secret keeps signing too."
    )


class PingOut(BaseModel):
    model_config = _examples(
        {
            "partner_id": _PARTNER_EXAMPLE["id"],
            "webhook_id": "msg_5e0c2b7a9d1f4e3a8b6c2d0f7a9e1b34",
            "delivered": True,
            "status_code": 200,
            "latency_ms": 38.4,
            "error": None,
        }
    )

    partner_id: str
    webhook_id: str = Field(description="The test event's `webhook-id` (new for each test).")
    delivered: bool = Field(description="Whether the partner answered 2xx.")
    status_code: int | None = Field(description="The partner's HTTP status; null: no answer.")
    latency_ms: float = Field(description="From sending the request to the answer (or failure).")
    error: str | None = Field(description="Why it was not delivered, as the attempts log says.")


DeliveryStatus = Literal["pending", "sending", "delivered", "dead", "superseded"]


class AttemptOut(BaseModel):
    model_config = _examples(_ATTEMPT_EXAMPLE)

    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryOut(BaseModel):
    model_config = _examples(_DELIVERY_EXAMPLE)

    id: str
    webhook_id: str
    partner_id: str
    alert_id: str
    sequence: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    deadline: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    model_config = _examples(
        {"items": [_DELIVERY_EXAMPLE], "next_offset": None, "next_cursor": None}
    )

    items: list[DeliveryOut]
    next_offset: int | None
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


WebhookType = Literal["alert.issued", "alert.updated", "alert.cancelled", "alert.expired"]


class WebhookPayload(BaseModel):
    """The body of every webhook POST (documentation of what ``fanout`` sends)."""

    model_config = _examples(
        {
            "type": "alert.issued",
            "id": _DELIVERY_EXAMPLE["webhook_id"],
            "alert": ALERT_MESSAGE_EXAMPLE,
            "cap_url": "http://127.0.0.1:8000/v1/alerts/"
            f"{ALERT_MESSAGE_EXAMPLE['alert_id']}/cap?sequence=1",
        }
    )

    type: WebhookType
    id: str = Field(description="Equals the `webhook-id` header: deduplicate on it.")
    alert: AlertMessage = Field(
        description="The public alert (CAP 1.2 fields; the info blocks and the area's "
        "`descriptions` in the partner's languages). A Cancel carries no child data: take the "
        "alert down and delete it."
    )
    cap_url: str = Field(description="This version as CAP 1.2 XML (needs an `alerts:read` key).")


class PingPayload(BaseModel):
    """The body of a test event (``dispatcher.ping``): no alert, nothing to show."""

    model_config = _examples(
        {"type": "ping", "id": "msg_2v1Yq4c7Hk0bN8pZsT3wXe", "sent_at": "2026-11-29T15:12:00Z"}
    )

    type: Literal["ping"]
    id: str = Field(description="Equals the `webhook-id` header.")
    sent_at: datetime
