"""Request and response bodies of the partner and delivery APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from shapely.geometry import shape

from shared.alert_contract import Language

ALL_LANGUAGES: list[Language] = ["ar", "fr", "zgh", "en"]


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    verify_token: Annotated[str, StringConstraints(min_length=8, max_length=200)] = Field(
        description="The token the partner expects in hub.verify_token during the handshake."
    )
    languages: list[Language] = Field(default_factory=lambda: list(ALL_LANGUAGES), min_length=1)
    coverage: dict[str, Any] | None = Field(
        default=None, description="GeoJSON geometry; alerts whose zone misses it are not sent."
    )

    @field_validator("coverage")
    @classmethod
    def _valid_geometry(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            geometry = shape(value)
        except Exception as exc:
            raise ValueError(f"not a GeoJSON geometry: {exc}") from None
        if geometry.is_empty or not geometry.is_valid:
            raise ValueError("the coverage geometry is empty or invalid")
        return value


PartnerStatus = Literal["unverified", "active", "disabled"]


class PartnerOut(BaseModel):
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


class PartnerWithSecret(PartnerOut):
    secret: str = Field(description="Shown once. Verify both signatures with it.")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_hours: float = Field(
        default=24.0, ge=0, le=24 * 30, description="How long the old secret keeps signing too."
    )


DeliveryStatus = Literal["pending", "sending", "delivered", "dead", "superseded"]


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryOut(BaseModel):
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
    items: list[DeliveryOut]
    next_offset: int | None
