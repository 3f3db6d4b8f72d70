"""Police-facing REST endpoints, and the key management API. Thin: parse, authorise, call the
service inside one transaction. Which case a key reaches and the four-eyes rules live in
``access.py``; the scope named here is the first gate only."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response

from intake_api import keys
from intake_api.audit_routes import router as audit_router
from intake_api.case_versions import entity_tag
from intake_api.dependencies import Reports
from intake_api.key_schemas import (
    KeyCreated,
    KeyIn,
    KeyOut,
    KeyPage,
    UnitIn,
    UnitList,
    UnitOut,
)
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
from shared.auth import Principal, add_unit, list_units, require_scope
from shared.entity_ids import EntityId
from shared.input_types import QUERY_DIGITS
from shared.paging import Cursor, Limit, Offset
from shared.problem_schema import AUTHENTICATED, WITH_BODY, problem_responses
from shared.problems import Problem, field_problem, not_found
from shared.transaction import Transaction
from shared.web import Now

reports = APIRouter(prefix="/v1/reports", tags=["reports"])
keys_router = APIRouter(prefix="/v1/keys", tags=["keys"])
units_router = APIRouter(prefix="/v1/units", tags=["keys"])

Submitter = Annotated[Principal, require_scope("reports:submit")]
Reader = Annotated[Principal, require_scope("reports:read")]
Reviewer = Annotated[Principal, require_scope("reports:review")]
# Resolution stays immediate for the owning unit and reviewers alike.
SubmitterOrReviewer = Annotated[Principal, require_scope("reports:submit", "reports:review")]
# Cancelling is a reviewer's act; a submitter may also withdraw its case while it is only
# submitted (access.refusal). The first scope is the one the OpenAPI document names.
ReviewerOrSubmitter = Annotated[Principal, require_scope("reports:review", "reports:submit")]
# A sighting: the owning unit (reports:submit), or any unit through sightings:submit.
Sighter = Annotated[Principal, require_scope("reports:submit", "sightings:submit")]
KeyAdmin = Annotated[Principal, require_scope("keys:admin")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry-safe submission: the same key and body give the same answer (the "
        "same report, or the same sighting) without doing it twice. A key is remembered for "
        "48 hours after its request (by default: the deployment may set another time); "
        "after that it is a new key.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        min_length=1,
        max_length=200,
        description="The version of the case you read (its `ETag`, or `version`): the act "
        "is refused (412) if the case changed since. Without it, it acts on the case as it "
        "is now.",
    ),
]
# The errors each kind of operation answers with (problem+json), declared in the OpenAPI.
SUBMIT_ERRORS = problem_responses(*AUTHENTICATED, 409, *WITH_BODY)
LIST_ERRORS = problem_responses(*AUTHENTICATED, 422)
READ_ERRORS = problem_responses(*AUTHENTICATED, 404)
ACTION_ERRORS = problem_responses(*AUTHENTICATED, 404, 409, *WITH_BODY)
# Those that take ``If-Match``: a 412 when the case changed since it was read.
CONDITIONAL_ERRORS = problem_responses(*AUTHENTICATED, 404, 409, 412, *WITH_BODY)


@reports.post(
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
    response: Response,
    principal: Submitter,
    reports: Reports,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    """Records a missing-child report in the `submitted` state, waiting for review.

    **Scope:** `reports:submit`.

    Give the last-seen place as a point, a Moroccan place name (geocoded offline), or both;
    the time must not be in the future. The example is valid as shown: its `last_seen.at` is
    30 minutes before this document was fetched (reload the page to refresh it).

    With an `Idempotency-Key`, a retry with the same body answers the same report as it stands
    now (marked `Idempotent-Replayed: true`; its contents only to a key with `reports:read`,
    as for every act); the same key with another body is a 409.

    **Events:** `report.submitted` (through the outbox, in the same transaction).
    """
    report, created = await reports.submit(principal, body, idempotency_key)
    response.headers["Location"] = f"/v1/reports/{report.id}"
    if not created:
        # Same key, same body: the same answer as the first time, marked as a replay.
        response.headers["Idempotent-Replayed"] = "true"
    return report


@reports.get(
    "",
    response_model=ReportPage,
    responses=LIST_ERRORS,
    operation_id="reports_list",
    response_description="One page of reports.",
    summary="List reports",
)
async def list_reports(
    principal: Reader,
    reports: Reports,
    status: ReportStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = None,
) -> ReportPage:
    """Reports, newest first, optionally filtered by status; `next_cursor` (or
    `next_offset`) pages on. Walk a queue that changes as you work it (`status=submitted`
    while approving) by cursor: by offset, cases leaving it would shift the rest past you.

    **Scope:** `reports:read`. A unit key lists its own unit's cases; a national key, all.
    **Events:** none.
    """
    return await reports.page(principal, status, limit, offset, cursor)


@reports.get(
    "/{report_id}",
    response_model=ReportOut,
    responses={
        200: {
            "headers": {
                "ETag": {
                    "description": "The case's version (its `version`, quoted): send it as "
                    "`If-Match` with the approval or the correction of what you read.",
                    "schema": {"type": "string"},
                }
            }
        },
        **READ_ERRORS,
    },
    operation_id="reports_read",
    response_description="The report.",
    summary="Read a report",
)
async def read_report(
    report_id: EntityId, principal: Reader, reports: Reports, response: Response
) -> ReportOut:
    """The report with its status, review, criteria, alert id, window and sightings; its
    version in the `ETag` header.

    **Scope:** `reports:read`. Another unit's case is a 404, like a missing one.
    **Events:** none.
    """
    case = await reports.get(principal, report_id)
    response.headers["ETag"] = entity_tag(case.version)
    return case


# A correction as a partner platform's moderator would ask for it: a photo, and better words.
_CORRECTION_EXAMPLE = {
    "child": {
        "photo_urls": ["https://photos.police.example.ma/cases/amina-2.jpg"],
        "clothing": "Robe rouge, sandales blanches, cartable bleu",
    }
}


@reports.patch(
    "/{report_id}",
    response_model=ReportOut,
    responses=CONDITIONAL_ERRORS,
    operation_id="reports_correct",
    response_description="The corrected report.",
    summary="Correct a report's details",
    openapi_extra={
        "requestBody": {
            "content": {"application/merge-patch+json": {"example": _CORRECTION_EXAMPLE}}
        }
    },
)
async def correct_report(
    report_id: EntityId,
    patch: Annotated[
        dict[str, Any],
        Body(
            media_type="application/merge-patch+json",
            description="A JSON Merge Patch (RFC 7396) of the report as submitted: the "
            "members given replace the stored ones (objects merge member by member), `null` "
            "removes one. Sent as `application/merge-patch+json` or `application/json`.",
        ),
    ],
    principal: SubmitterOrReviewer,
    reports: Reports,
    if_match: IfMatch = None,
) -> ReportOut:
    """Corrects a report while it is open (`submitted`, or `approved` with its alert up): add
    a photo, put a description or a name right, record the guardian's consent. The corrected
    report is checked as a new one would be (a 422 names each field at fault) and nothing is
    stored unless all of it is valid. `submitted_by` and `message_status` cannot be corrected.
    Where, when and how the child was last seen travelling (`last_seen`, `travel_mode`) is
    corrected only before approval; afterwards a sighting says where the child was seen
    since. A live alert's report must still meet the criteria it was approved on (a 422
    otherwise: consent withdrawn is a cancellation). A patch that changes nothing records
    nothing. With `If-Match` (the `ETag` of the case you read, or its `version`), a case that
    changed since is a 412: a correction never writes over a change its sender did not see.

    **Scope:** `reports:submit` (the owning unit) or `reports:review`; audited. **Four eyes:**
    once the alert is out, a correction of what partners show (the child, the photos, the
    suspected vehicle or companion) needs a reviewer who did not submit the case (403).
    An expired or closed case is a 409.

    **Events:** `report.corrected`; once the alert is out, partners receive `alert.updated`
    with the corrected description at once.
    """
    return await reports.correct(principal, report_id, patch, if_match)


@reports.post(
    "/{report_id}/approve",
    response_model=ReportOut,
    responses=CONDITIONAL_ERRORS,
    operation_id="reports_approve",
    response_description="The approved report, with its `alert_id` and `expires_at`.",
    summary="Approve a report: the alert goes out",
)
async def approve_report(
    report_id: EntityId,
    body: ApproveIn,
    principal: Reviewer,
    reports: Reports,
    if_match: IfMatch = None,
) -> ReportOut:
    """Confirms the criteria and approves a `submitted` report: its alert becomes active.

    **Scope:** `reports:review`. **Four eyes:** the key that submitted the report cannot
    approve it, nor can a key that changed what partners would show (the child, the photos,
    the suspected vehicle or companion, where the child was last seen, a trusted sighting:
    its `content_by_keys`) (403). Criteria the report does not meet are a 422 naming each
    one. Another unit's case is a 404 (on every report route). With `If-Match` (the `ETag`
    of the case you read, or its `version`), a case that changed since is a 412: what goes
    out is what you reviewed.

    **Events:** `report.approved`; the alert engine then issues the alert (CAP `Alert`) and
    partners receive `alert.issued`. The `alert_id` answered is readable at
    `/v1/alerts/{alert_id}` once the engine has composed it, a moment later (a 404 until then;
    and for good if the case is resolved or cancelled before the engine gets to issue it: a
    found child's alert never goes out).
    """
    return await reports.approve(principal, report_id, body, if_match)


@reports.post(
    "/{report_id}/reject",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_reject",
    response_description="The rejected report.",
    summary="Reject a report",
)
async def reject_report(
    report_id: EntityId, body: ReasonIn, principal: Reviewer, reports: Reports
) -> ReportOut:
    """Rejects a `submitted` report with a reason (kept in intake, never published).

    **Scope:** `reports:review`. **Four eyes:** the key that submitted the report cannot
    reject it (403); it may withdraw it with cancel while it is only submitted.

    **Events:** `report.rejected`; nothing reaches partners.
    """
    return await reports.reject(principal, report_id, body.reason)


@reports.post(
    "/{report_id}/renew",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_renew",
    response_description="The report with its new `expires_at`.",
    summary="Renew an active alert's time window",
)
async def renew_report(
    report_id: EntityId, body: RenewIn, principal: Reviewer, reports: Reports
) -> ReportOut:
    """Extends an active alert's time window: it now ends `ttl_hours` from now.

    **Scope:** `reports:review`. **Four eyes:** not the key that submitted the report, nor
    a key that changed what partners show (`content_by_keys`) (403). The new window
    must end later than the current one (422).

    **Events:** `report.renewed`; partners receive `alert.updated` with the new `expires`.
    """
    return await reports.renew(principal, report_id, body)


@reports.post(
    "/{report_id}/resolve",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_resolve",
    response_description="The resolved report.",
    summary="Resolve a case: the child is found",
)
async def resolve_report(
    report_id: EntityId,
    principal: SubmitterOrReviewer,
    reports: Reports,
    body: ResolveIn | None = None,
) -> ReportOut:
    """The child is found: closes the case at once, whatever the review state. The body (a
    note) is optional: an empty POST resolves. A case whose personal data was erased (it
    expired, and its retention passed) keeps no note: `status_reason` stays null.

    **Scope:** `reports:submit` (any key of the owning unit) or `reports:review`: immediate,
    no second key (speed of takedown comes first), before review as after; audited. A case
    still waiting for review is closed, and can no longer be approved.

    **Events:** `report.resolved`; an active alert is cancelled at once and partners receive
    `alert.cancelled` (take it down and delete the child's data).
    """
    return await reports.resolve(principal, report_id, body.note if body else None)


@reports.post(
    "/{report_id}/cancel",
    response_model=ReportOut,
    responses=ACTION_ERRORS,
    operation_id="reports_cancel",
    response_description="The cancelled report.",
    summary="Cancel a report or its alert",
)
async def cancel_report(
    report_id: EntityId,
    body: ReasonIn,
    principal: ReviewerOrSubmitter,
    reports: Reports,
) -> ReportOut:
    """Withdraws a report (false report, duplicate, …), with a reason kept in intake (not
    kept for a case whose personal data was erased: `status_reason` stays null).

    **Scope:** `reports:review`; the `reports:submit` key that submitted a case may withdraw
    it while it is still only submitted (another submitter's key: 403). **Four eyes:**
    cancelling a case whose alert went out needs a reviewer who did not submit it (403).

    **Events:** `report.cancelled`; an active alert is cancelled and partners receive
    `alert.cancelled`.
    """
    return await reports.cancel(principal, report_id, body.reason)


@reports.post(
    "/{report_id}/erase",
    response_model=ReportOut,
    responses=READ_ERRORS | problem_responses(409),
    operation_id="reports_erase",
    response_description="The case, erased: `report` is null, `erased_at` set.",
    summary="Erase an ended case's personal data now",
)
async def erase_report(report_id: EntityId, principal: Reviewer, reports: Reports) -> ReportOut:
    """Erases what intake holds about the child and the family in an ended case (resolved,
    cancelled, rejected or expired) at once, instead of `TIFLI_RETENTION_DAYS` after it
    ended: the sealed fields, notes, photos' URLs, circumstances and sightings' descriptions.
    The status, times, places and audit stay. Erasing an erased case changes nothing; a case
    still open is a 409.

    **Scope:** `reports:review`, on a national key (a unit key is refused, 403). Audited.
    **Events:** none; partners were told to delete the child's data when the alert ended.
    """
    return await reports.erase(principal, report_id)


@reports.post(
    "/{report_id}/sightings",
    status_code=201,
    response_model=SightingOut,
    responses={
        201: {
            "headers": {
                "Idempotent-Replayed": {
                    "description": "`true` when this answers a retry with the same key and body.",
                    "schema": {"type": "string"},
                },
            }
        },
        **ACTION_ERRORS,
    },
    operation_id="reports_add_sighting",
    response_description="The sighting as stored, with its point.",
    summary="Add a sighting",
)
async def add_sighting(
    report_id: EntityId,
    body: SightingIn,
    response: Response,
    principal: Sighter,
    reports: Reports,
    idempotency_key: IdempotencyKey = None,
) -> SightingOut:
    """Adds a sighting to an open case (a point, a place name, or both, and a past time).

    **Scope:** `reports:submit` for the owning unit's cases (or a national key); or
    `sightings:submit`, for any unit's case: such a sighting is recorded with the reporting
    unit and must be sent untrusted (`trusted: true` is a 403) until the owning unit or a
    reviewer trusts it. The example is valid as shown: its `at` is 10 minutes before this
    document was fetched.

    With an `Idempotency-Key`, a retry with the same body answers the sighting the first try
    added (marked `Idempotent-Replayed: true`), not a second one; the same key with another
    body, or on another case, is a 409.

    **Events:** `report.sighting_added`; a *trusted* sighting joins the zone, and partners receive
    `alert.updated` when the area changes.
    """
    sighting, added = await reports.add_sighting(principal, report_id, body, idempotency_key)
    if not added:
        response.headers["Idempotent-Replayed"] = "true"
    return sighting


@reports.post(
    "/{report_id}/sightings/{sighting_id}/trust",
    response_model=SightingOut,
    responses=READ_ERRORS | problem_responses(409),
    operation_id="reports_trust_sighting",
    response_description="The sighting, now trusted.",
    summary="Trust a sighting",
)
async def trust_sighting(
    report_id: EntityId,
    sighting_id: EntityId,
    principal: SubmitterOrReviewer,
    reports: Reports,
) -> SightingOut:
    """Accepts a sighting (from another unit, typically): it joins the zone as if it had been
    sent trusted. Trusting a trusted sighting changes nothing.

    **Scope:** `reports:submit` (the owning unit) or `reports:review`, with `reports:read`
    (a sighting is trusted by a key that can read it: 403 otherwise).

    **Events:** `report.sighting_added` with `trusted: true` (same `sighting_id`); partners
    receive `alert.updated` when the area changes.
    """
    return await reports.trust_sighting(principal, report_id, sighting_id)


# --- keys ------------------------------------------------------------------------------------

KEY_ERRORS = problem_responses(*AUTHENTICATED, 404)


def _key_problem(exc: keys.KeyRulesError) -> Problem:
    return field_problem(exc.field, str(exc))


@keys_router.get(
    "",
    response_model=KeyPage,
    responses=problem_responses(*AUTHENTICATED, 422),
    operation_id="keys_list",
    response_description="One page of keys, oldest first (never their secrets).",
    summary="List API keys",
)
async def list_keys(
    _: KeyAdmin,
    session: Transaction,
    now: Now,
    limit: Limit = 50,
    # Deeper than the other lists' bound (shared.paging), as this list has always accepted.
    offset: Annotated[int, Query(ge=0, le=2**62), QUERY_DIGITS] = 0,
) -> KeyPage:
    """Every key with its unit (or national), scopes, state, expiry and last use.

    **Scope:** `keys:admin`. **Events:** none.
    """
    return await keys.page(session, now, limit, offset)


@keys_router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    responses=problem_responses(*AUTHENTICATED, *WITH_BODY),
    operation_id="keys_create",
    response_description="The key, shown this once in `key`.",
    summary="Create an API key",
)
async def create_key(
    body: KeyIn, principal: KeyAdmin, session: Transaction, now: Now
) -> KeyCreated:
    """Creates a key for a unit (`unit`: a known unit's code) or a national one (`unit`
    null), with an optional expiry. The key is shown once; it is stored hashed.

    **Scope:** `keys:admin` (which only national keys may hold), and every scope the new key
    is given: a key hands out no scope it does not hold itself (403), and makes none that
    outlives it (a 422 on `expires_in_days` if the creating key expires first, a null
    lifetime included). Audited. **Events:** none.
    """
    try:
        return await keys.create(
            session,
            principal.key_id,
            now,
            name=body.name,
            scopes=body.scopes,
            unit=body.unit,
            expires_in=(timedelta(days=body.expires_in_days) if body.expires_in_days else None),
            # The host's ``tifli keys create`` gives any scope and lifetime: it is the
            # operator there.
            holder_scopes=frozenset(principal.scopes),
            holder_expires_at=await keys.expiry_of(session, principal.key_id),
        )
    except keys.KeyRulesError as exc:
        raise _key_problem(exc) from None
    except keys.ScopesNotHeld as exc:
        raise Problem(
            403,
            "Forbidden",
            str(exc),
            errors=[{"field": "scopes", "message": "beyond the creating key's own scopes"}],
        ) from None


@keys_router.post(
    "/{key_id}/revoke",
    response_model=KeyOut,
    responses=KEY_ERRORS,
    operation_id="keys_revoke",
    response_description="The key, revoked.",
    summary="Revoke an API key",
)
async def revoke_key(key_id: str, principal: KeyAdmin, session: Transaction, now: Now) -> KeyOut:
    """Revokes a key: it is refused (401) from its next request on. Revoking a revoked key
    changes nothing. By its id only: a name (it may name a person) or a whole key (a
    secret) would be kept in access logs with the URL.

    **Scope:** `keys:admin`. Audited. **Events:** none.
    """
    try:
        return await keys.revoke_key(session, principal.key_id, now, key_id, by_id_only=True)
    except LookupError:
        raise not_found("key", key_id) from None


@units_router.get(
    "",
    response_model=UnitList,
    responses=problem_responses(*AUTHENTICATED),
    operation_id="keys_list_units",
    response_description="Every unit, by code.",
    summary="List police units",
)
async def list_units_route(_: KeyAdmin, session: Transaction) -> UnitList:
    """The units keys and cases may belong to (a few hundred at most: one page).

    **Scope:** `keys:admin`. **Events:** none.
    """
    units = await list_units(session)
    return UnitList(
        items=[UnitOut(code=u.code, name=u.name, created_at=u.created_at) for u in units]
    )


@units_router.post(
    "",
    status_code=201,
    response_model=UnitOut,
    responses=problem_responses(*AUTHENTICATED, 409, *WITH_BODY),
    operation_id="keys_add_unit",
    response_description="The unit.",
    summary="Add a police unit",
)
async def add_unit_route(body: UnitIn, _: KeyAdmin, session: Transaction, now: Now) -> UnitOut:
    """Adds a unit that keys may then be created for. A code in use is a 409.

    **Scope:** `keys:admin`. **Events:** none.
    """
    try:
        unit = await add_unit(session, body.code, body.name, now)
    except ValueError as exc:
        raise Problem(409, "Conflict", str(exc)) from None
    return UnitOut(code=unit.code, name=unit.name, created_at=unit.created_at)


# Every router of this package, as the API app includes them.
router = APIRouter()
router.include_router(reports)
router.include_router(keys_router)
router.include_router(units_router)
router.include_router(audit_router)
