"""Police-facing REST endpoints. Thin: parse, authorise, call the service inside one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.schemas import (
    ApproveIn,
    ReasonIn,
    RenewIn,
    ReportIn,
    ReportOut,
    ReportPage,
    ReportStatus,
    ResolveIn,
    SightingIn,
    SightingOut,
)
from intake_api.sealing import Sealer
from intake_api.service import ReportService
from shared.auth import Principal, require_scope
from shared.problems import PROBLEM_JSON
from shared.web import app_context, db_session

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Session = Annotated[AsyncSession, Depends(db_session)]
Submitter = Annotated[Principal, require_scope("reports:submit")]
Reader = Annotated[Principal, require_scope("reports:read")]
Reviewer = Annotated[Principal, require_scope("reports:review")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry-safe submission: the same key and body give the same report.",
    ),
]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"content": {PROBLEM_JSON: {}}, "description": text}
    for code, text in {
        401: "No valid API key",
        403: "Wrong scope or four-eyes rule",
        404: "No such report",
        409: "Conflict with the case's state",
        422: "Invalid input; 'errors' names each field",
    }.items()
}


def _service(request: Request, session: AsyncSession) -> ReportService:
    sealer: Sealer = request.app.state.sealer
    context = app_context(request)
    return ReportService(
        session,
        sealer,
        context.clock.now(),
        default_ttl=timedelta(hours=context.settings.alert_ttl_hours),
    )


@router.post("", status_code=201, response_model=ReportOut, responses=PROBLEMS)
async def submit_report(
    body: ReportIn,
    request: Request,
    response: Response,
    session: Session,
    principal: Submitter,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    for attempt in range(2):
        try:
            async with session.begin():
                report, created = await _service(request, session).submit(
                    principal, body, idempotency_key
                )
            break
        except IntegrityError:
            # Two retries with one Idempotency-Key raced; the loser replays the winner's result.
            if attempt == 1 or idempotency_key is None:
                raise
    response.headers["Location"] = f"/v1/reports/{report.id}"
    if not created:
        # Same key, same body: the same answer as the first time, marked as a replay.
        response.headers["Idempotent-Replayed"] = "true"
    return report


@router.get("", response_model=ReportPage, responses=PROBLEMS)
async def list_reports(
    request: Request,
    session: Session,
    _: Reader,
    status: ReportStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReportPage:
    async with session.begin():
        return await _service(request, session).page(status, limit, offset)


@router.get("/{report_id}", response_model=ReportOut, responses=PROBLEMS)
async def read_report(report_id: str, request: Request, session: Session, _: Reader) -> ReportOut:
    async with session.begin():
        return await _service(request, session).get(report_id)


@router.post("/{report_id}/approve", response_model=ReportOut, responses=PROBLEMS)
async def approve_report(
    report_id: str, body: ApproveIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    async with session.begin():
        return await _service(request, session).approve(principal, report_id, body)


@router.post("/{report_id}/reject", response_model=ReportOut, responses=PROBLEMS)
async def reject_report(
    report_id: str, body: ReasonIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    async with session.begin():
        return await _service(request, session).reject(principal, report_id, body.reason)


@router.post("/{report_id}/renew", response_model=ReportOut, responses=PROBLEMS)
async def renew_report(
    report_id: str, body: RenewIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    """Extends the alert's time window (from now) before it ends; partners get an Update."""
    async with session.begin():
        return await _service(request, session).renew(principal, report_id, body)


@router.post("/{report_id}/resolve", response_model=ReportOut, responses=PROBLEMS)
async def resolve_report(
    report_id: str, body: ResolveIn, request: Request, session: Session, principal: Submitter
) -> ReportOut:
    async with session.begin():
        return await _service(request, session).resolve(principal, report_id, body.note)


@router.post("/{report_id}/cancel", response_model=ReportOut, responses=PROBLEMS)
async def cancel_report(
    report_id: str, body: ReasonIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    async with session.begin():
        return await _service(request, session).cancel(principal, report_id, body.reason)


@router.post(
    "/{report_id}/sightings", status_code=201, response_model=SightingOut, responses=PROBLEMS
)
async def add_sighting(
    report_id: str, body: SightingIn, request: Request, session: Session, principal: Submitter
) -> SightingOut:
    async with session.begin():
        return await _service(request, session).add_sighting(principal, report_id, body)
