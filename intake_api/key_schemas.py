"""Request and response bodies of the key management API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.auth import SCOPES, UNIT_CODE_PATTERN, KeyState
from shared.input_types import SINGLE_LINE

# National, so that the example works as shown on any deployment; a unit key names a unit
# added first (POST /v1/units), e.g. "unit": "CASA-ANFA".
KEY_IN_EXAMPLE: dict[str, Any] = {
    "name": "central-review-2",
    "scopes": ["reports:review", "reports:read", "alerts:read"],
    "unit": None,
    "expires_in_days": 90,
}
KEY_OUT_EXAMPLE: dict[str, Any] = {
    "id": "3f9a1c2b7d4e",
    "name": "unit-casa-anfa-dispatch",
    "scopes": ["reports:read", "reports:submit"],
    "unit": "CASA-ANFA",
    "state": "active",
    "created_at": "2026-11-29T14:00:00Z",
    "expires_at": "2027-02-27T14:00:00Z",
    "revoked_at": None,
    "last_used_at": "2026-11-30T08:12:00Z",
}


# The longest a key may live, from the API or the command line: ten years.
MAX_LIFETIME_DAYS = 3650


# What a key or a unit is called: one line of visible text (the CLI checks it too: a name
# holding a terminal escape would be printed as is by ``tifli keys list``).
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]


class KeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [KEY_IN_EXAMPLE]}
    )

    name: DisplayName
    # Each like "reports:review" (the known ones are checked with the rest of the key's
    # rules): a text that cannot be a scope is refused here, not repeated in that message.
    scopes: list[Annotated[str, StringConstraints(pattern=r"^[a-z]+:[a-z]+$", max_length=40)]] = (
        Field(
            min_length=1,
            max_length=len(SCOPES),
            description=f"One or more of: {', '.join(sorted(SCOPES))}.",
        )
    )
    # Required, null included: a national key sees every unit's cases, so it is asked for,
    # never what a forgotten field gives.
    unit: Annotated[str, StringConstraints(pattern=UNIT_CODE_PATTERN)] | None = Field(
        description="A known unit's code: the key sees and acts on that unit's cases only. "
        "Null (given as such): a national key (central review, operators), which sees every "
        "case.",
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=MAX_LIFETIME_DAYS, description="Null: the key does not expire."
    )


class KeyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [KEY_OUT_EXAMPLE]})

    id: str
    name: str
    scopes: list[str]
    unit: str | None = Field(description="Null: a national key.")
    state: KeyState
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute; null: never used.")


class KeyCreated(KeyOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**KEY_OUT_EXAMPLE, "last_used_at": None, "key": "tfk_3f9a1c2b7d4e_…"}]
        }
    )

    key: str = Field(description="The key itself, shown this once: it is stored hashed.")


class KeyPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [KEY_OUT_EXAMPLE], "next_offset": None}]}
    )

    items: list[KeyOut]
    next_offset: int | None


UNIT_EXAMPLE: dict[str, Any] = {"code": "RABAT-AGDAL", "name": "DGSN Rabat Agdal"}


class UnitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [UNIT_EXAMPLE]}
    )

    code: Annotated[str, StringConstraints(pattern=UNIT_CODE_PATTERN)] = Field(
        description="Capitals, digits, '.', '_' or '-', at most 32: what keys and cases carry."
    )
    name: DisplayName


class UnitOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**UNIT_EXAMPLE, "created_at": "2026-11-29T14:00:00Z"}]}
    )

    code: str
    name: str
    created_at: datetime


class UnitList(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra={
            "examples": [
                {
                    "items": [{**UNIT_EXAMPLE, "created_at": "2026-11-29T14:00:00Z"}],
                    "next_offset": None,
                }
            ]
        },
    )

    items: list[UnitOut]
    next_offset: int | None = Field(default=None, description="Always null: one page.")
