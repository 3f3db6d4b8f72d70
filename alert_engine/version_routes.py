"""``GET /v1/alerts/{alert_id}/versions/{sequence}``: one version exactly as partners received
it, so that a client can show any version's zone beside the current one (the console's
version history)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from alert_engine.models import AlertVersion
from alert_engine.schemas import MAX_SEQUENCE
from shared.alert_contract import AlertMessage
from shared.alert_example import ALERT_MESSAGE_EXAMPLE
from shared.auth import Principal, require_scope
from shared.problem_schema import AUTHENTICATED, problem_responses
from shared.problems import Problem
from shared.web import db_session

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Session = Annotated[AsyncSession, Depends(db_session)]
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
    alert_id: str,
    sequence: Annotated[int, Path(ge=1, le=MAX_SEQUENCE)],
    session: Session,
    _: Reader,
) -> AlertMessage:
    """One version (Alert, Update or Cancel) of the alert, with its zone, texts and window,
    exactly as it was sent.

    **Scope:** `alerts:read`. **Events:** none.
    """
    version = await session.get(AlertVersion, (alert_id, sequence))
    if version is None:
        raise Problem(404, "Not found", f"Alert {alert_id} has no version {sequence}.")
    return AlertMessage.model_validate_json(version.payload)
