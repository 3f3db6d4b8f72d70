"""``GET /v1/alerts/{alert_id}/versions/{sequence}``: one version exactly as partners received
it, so that a client can show any version's zone beside the current one (the console's
version history)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from alert_engine.dependencies import Alerts
from alert_engine.schemas import MAX_SEQUENCE
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE
from shared.auth import Principal, require_scope
from shared.entity_ids import EntityId
from shared.input_types import QUERY_DIGITS
from shared.problem_schema import AUTHENTICATED, problem_responses

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require_scope("alerts:read")]


@router.get(
    "/{alert_id}/versions/{sequence}",
    response_model=AlertMessage,
    responses={
        200: {"content": {"application/json": {"example": ALERT_MESSAGE_EXAMPLE}}},
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    operation_id="alerts_version",
    response_description="The version as partners received it.",
    summary="Read one version of an alert",
)
async def read_version(
    alert_id: EntityId,
    sequence: Annotated[int, Path(ge=1, le=MAX_SEQUENCE), QUERY_DIGITS],
    _: Reader,
    alerts: Alerts,
) -> AlertMessage:
    """One version (Alert, Update or Cancel) of the alert, with its zone, texts and window,
    exactly as it was sent.

    **Scope:** `alerts:read`. **Events:** none.
    """
    return await alerts.message(await alerts.load(alert_id), sequence)
