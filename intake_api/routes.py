"""Police-facing REST endpoints. Thin: parse, authorise, call the service inside one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

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
from shared.paging import MAX_OFFSET
from shared.problem_schema import AUTHENTICATED, WITH_BODY, problem_responses
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
# The errors each kind of operation answers with (problem+json), declared in the OpenAPI.
SUBMIT_ERRORS = problem_responses(*AUTHENTICATED, 409, *WITH_BODY)
LIST_ERRORS = problem_responses(*AUTHENTICATED, 422)
READ_ERRORS = problem_responses(*AUTHENTICATED, 404)
ACTION_ERRORS = problem_responses(*AUTHENTICATED, 404, 409, *WITH_BODY)


def _service(request: Request, session: AsyncSession) -> ReportService:
    sealer: Sealer = request.app.state.sealer
    context = app_context(request)
    return ReportService(
        session,
        sealer,
        context.clock.now(),
        default_ttl=timedelta(hours=context.settings.alert_ttl_hours),
    )


@router.post(
    "",
    status_code=201,
    response_model=ReportOut,
    responses={
        201: {
            "headers": {
                "Location": {"description": "The report's URL.", "schema": {"type": "string"}},
                "Idempotent-Replayed": {
                    "description": "`true` when this answers a retry with the same key and body.",
                    "schema": {"type": "string"},
                },
            }
        },
        **SUBMIT_ERRORS,
    },
    operation_id="reports_submit",
    response_description="The report as stored; `Location` names it.",
    summary="Submit a report",
)
async def submit_report(
    body: ReportIn,
    request: Request,
    response: Response,
    session: Session,
    principal: Submitter,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    """Records a missing-child report in the `submitted` state, waiting for review.

    **Scope:** `reports:submit`.

    Give the last-seen place as a point, a Moroccan place name (geocoded offline), or both;
    the time must not be in the future. The example is valid as shown: its `last_seen.at` is
    30 minutes before this document was fetched (reload the page to refresh it).

    With an `Idempotency-Key`, a retry with the same body answers the same report (marked
    `Idempotent-Replayed: true`); the same key with another body is a 409.

    **Events:** `report.submitted` (through the outbox, in the same transaction).
    """
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


@router.get(
    "",
    response_model=ReportPage,
    responses=LIST_ERRORS,
    operation_id="reports_list",
    response_description="One page of reports.",
    summary="List reports",
)
async def list_reports(
    request: Request,
    session: Session,
    _: Reader,
    status: ReportStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ReportPage:
    """Reports, newest first, optionally filtered by status; `next_offset` pages on.

    **Scope:** `reports:read`. **Events:** none.
    """
    async with session.begin():
        return await _service(request, session).page(status, limit, offset)


@router.get(
    "/{report_id}",
    response_model=ReportOut,
    responses=READ_ERRORS,
    operation_id="reports_read",
    response_description="The report.",
    summary="Read a report",
)
async def read_report(report_id: str, request: Request, session: Session, _: Reader) -> ReportOut:
    """The report with its status, review, criteria, alert id, window and sightings.

    **Scope:** `reports:read`. **Events:** none.
    """
    async with session.begin():
        return await _service(request, session).get(report_id)


@router.post(
    "/{report_id}/approve",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_approve",
    response_description="The approved report, with its `alert_id` and `expires_at`.",
    summary="Approve a report: the alert goes out",
)
async def approve_report(
    report_id: str, body: ApproveIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    """Confirms the criteria and approves a `submitted` report: its alert becomes active.

    **Scope:** `reports:review`. **Four eyes:** the key that submitted the report cannot
    approve it (403). Criteria the report does not meet are a 422 naming each one.

    **Events:** `report.approved`; the alert engine then issues the alert (CAP `Alert`) and
    partners receive `alert.issued`.
    """
    async with session.begin():
        return await _service(request, session).approve(principal, report_id, body)


@router.post(
    "/{report_id}/reject",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_reject",
    response_description="The rejected report.",
    summary="Reject a report",
)
async def reject_report(
    report_id: str, body: ReasonIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    """Rejects a `submitted` report with a reason (kept in intake, never published).

    **Scope:** `reports:review`. **Events:** `report.rejected`; nothing reaches partners.
    """
    async with session.begin():
        return await _service(request, session).reject(principal, report_id, body.reason)


@router.post(
    "/{report_id}/renew",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_renew",
    response_description="The report with its new `expires_at`.",
    summary="Renew an active alert's time window",
)
async def renew_report(
    report_id: str, body: RenewIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    """Extends an active alert's time window: it now ends `ttl_hours` from now.

    **Scope:** `reports:review`. The new window must end later than the current one (422).

    **Events:** `report.renewed`; partners receive `alert.updated` with the new `expires`.
    """
    async with session.begin():
        return await _service(request, session).renew(principal, report_id, body)


@router.post(
    "/{report_id}/resolve",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_resolve",
    response_description="The resolved report.",
    summary="Resolve a case: the child is found",
)
async def resolve_report(
    report_id: str, body: ResolveIn, request: Request, session: Session, principal: Submitter
) -> ReportOut:
    """The child is found: closes the case at once, whatever the review state.

    **Scope:** `reports:submit` (immediate, no second key; audited).

    **Events:** `report.resolved`; an active alert is cancelled at once and partners receive
    `alert.cancelled` (take it down and delete the child's data).
    """
    async with session.begin():
        return await _service(request, session).resolve(principal, report_id, body.note)


@router.post(
    "/{report_id}/cancel",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_cancel",
    response_description="The cancelled report.",
    summary="Cancel a report or its alert",
)
async def cancel_report(
    report_id: str, body: ReasonIn, request: Request, session: Session, principal: Reviewer
) -> ReportOut:
    """Withdraws a report (false report, duplicate, …), with a reason kept in intake.

    **Scope:** `reports:review`.

    **Events:** `report.cancelled`; an active alert is cancelled and partners receive
    `alert.cancelled`.
    """
    async with session.begin():
        return await _service(request, session).cancel(principal, report_id, body.reason)


@router.post(
    "/{report_id}/sightings",
    status_code=201,
    response_model=SightingOut,
    responses=ACTION_ERRORS,
    operation_id="reports_add_sighting",
    response_description="The sighting as stored, with its point.",
    summary="Add a sighting",
)
async def add_sighting(
    report_id: str, body: SightingIn, request: Request, session: Session, principal: Submitter
) -> SightingOut:
    """Adds a sighting to an open case (a point, a place name, or both, and a past time).

    **Scope:** `reports:submit`. The example is valid as shown: its `at` is 10 minutes before
    this document was fetched.

    **Events:** `report.sighting_added`; a *trusted* sighting joins the zone, and partners receive
    `alert.updated` when the area changes.
    """
    async with session.begin():
        return await _service(request, session).add_sighting(principal, report_id, body)
