"""``GET /v1/keys/me``: what the calling key is, so that a client (the console) can show only
what the key's scopes allow. The server enforces the scopes on every call anyway."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, current_principal
from shared.problem_schema import AUTHENTICATED, problem_responses

router = APIRouter(prefix="/v1/keys", tags=["keys"])

OWN_KEY_EXAMPLE: dict[str, Any] = {
    "id": "3f9a1c2b7d4e",
    "name": "unit-casa-anfa-dispatch",
    "scopes": ["reports:read", "reports:submit"],
    "unit": "CASA-ANFA",
}


class OwnKeyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [OWN_KEY_EXAMPLE]})

    id: str
    name: str
    scopes: list[str] = Field(description="Sorted; each decides which operations the key may call.")
    unit: str | None = Field(description="Null: a national key, which sees every unit's cases.")


@router.get(
    "/me",
    response_model=OwnKeyOut,
    responses=problem_responses(*AUTHENTICATED),
    operation_id="keys_me",
    response_description="The calling key: id, name, scopes and unit (never its secret).",
    summary="Read the calling key",
)
async def read_own_key(principal: Annotated[Principal, Depends(current_principal)]) -> OwnKeyOut:
    """The key that signs this request: its id, name, scopes and unit. Any valid key may
    call it, whatever its scopes.

    **Scope:** any. **Events:** none.
    """
    return OwnKeyOut(
        id=principal.key_id,
        name=principal.name,
        scopes=sorted(principal.scopes),
        unit=principal.unit,
    )
