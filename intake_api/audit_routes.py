"""The audit log API: who did what to which case or key, when, as the hash chain holds it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from intake_api import audit_log
from intake_api.audit_schemas import AuditPage
from shared.auth import Principal, require_scope
from shared.clock import as_utc
from shared.entity_ids import EntityId
from shared.input_types import IsoDateTime
from shared.paging import Limit, Offset
from shared.problem_schema import AUTHENTICATED, problem_responses
from shared.problems import Problem, field_problem
from shared.transaction import Transaction

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Auditor = Annotated[Principal, require_scope("audit:read")]


def _utc(since: datetime) -> datetime:
    try:
        return as_utc(since)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, before the first UTC instant
        raise field_problem("query.since", "out of range") from None


@router.get(
    "",
    response_model=AuditPage,
    responses=problem_responses(*AUTHENTICATED, 422),
    operation_id="audit_list",
    response_description="One page of audit entries, oldest first.",
    summary="Read the audit log",
)
async def list_audit_entries(
    principal: Auditor,
    session: Transaction,
    case_id: Annotated[
        EntityId | None, Query(max_length=36, description="Only the entries about this case.")
    ] = None,
    since: Annotated[
        # ISO 8601 with a zone: not a bare number (which lax parsing would take as Unix time).
        IsoDateTime | None,
        Query(description="Only the entries from this time on (ISO 8601, with a zone)."),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditPage:
    """Every act on a case or a key (submission, review, renewal, resolution, cancellation,
    sightings, key creation and revocation), in the order it was written: the acting key's
    id, the action, the case or key, the time, and the entry's place in the hash chain.
    No personal data. `tifli audit verify` checks the whole chain on the host.

    **Scope:** `audit:read`, which only national keys hold: the log spans every unit (a unit
    key is a 403). **Events:** none.
    """
    if not principal.national:
        raise Problem(403, "Forbidden", "The audit log is for national keys only.")
    return await audit_log.page(
        session,
        case_id=case_id,
        since=None if since is None else _utc(since),
        limit=limit,
        offset=offset,
    )
