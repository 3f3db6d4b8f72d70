"""Units and four eyes over HTTP: a unit key reaches its own
unit's cases only, another unit's case answers 404 on every report route, national keys reach
all; acts that reach the public need a reviewer who did not submit the case."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from intake_api.models import Report
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.auth import add_unit, create_api_key
from tests.waiting import eventually

# Unit personas, beside the suite's national ones (submitter, reviewer, reader, admin).
UNIT_KEYS: dict[str, tuple[str | None, list[str]]] = {
    # the desk that files Casablanca's cases
    "casa_desk": ("CASA-ANFA", ["reports:submit", "reports:read"]),
    # another Casablanca desk: a colleague, not the submitter, and no reviewer
    "casa_colleague": ("CASA-ANFA", ["reports:submit", "reports:read"]),
    # a second Casablanca key that may also review: "own unit" in the matrix
    "casa_chief": ("CASA-ANFA", ["reports:submit", "reports:read", "reports:review"]),
    # the same scopes in another unit: "other unit" in the matrix
    "rabat_chief": ("RABAT-AGDAL", ["reports:submit", "reports:read", "reports:review"]),
    # a patrol that may report sightings on any unit's case, and nothing else
    "rabat_patrol": ("RABAT-AGDAL", ["sightings:submit"]),
    # keys that act on cases without reading them: a unit's filing desk, a national reviewer
    "casa_filer": ("CASA-ANFA", ["reports:submit"]),
    "blind_reviewer": (None, ["reports:review"]),
}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    running, server = await start_stack(embedded_settings(tmp_path))
    now = datetime.now(UTC)
    async with running.embedded.sessions() as session, session.begin():
        await add_unit(session, "CASA-ANFA", "DGSN Casablanca Anfa", now)
        await add_unit(session, "RABAT-AGDAL", "DGSN Rabat Agdal", now)
        for name, (unit, scopes) in UNIT_KEYS.items():
            running.keys[name] = await create_api_key(session, name, scopes, now, unit=unit)
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


def sighting(trusted: bool) -> dict[str, Any]:
    return {
        "location": {"lat": 34.0209, "lon": -6.8416},
        "place_name": "Rabat",
        "at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        "trusted": trusted,
    }


async def new_case(stack: Stack, state: str, submitter: str = "casa_desk") -> str:
    """A case of ``submitter``'s unit, in ``state`` (submitted, approved or resolved)."""
    async with stack.client(submitter) as client:
        created = await client.post("/v1/reports", json=report_body())
        assert created.status_code == 201, created.text
        report_id: str = created.json()["id"]
    if state in ("approved", "resolved"):
        async with stack.client("reviewer") as reviewer:
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
    if state == "resolved":
        async with stack.client("reviewer") as reviewer:
            resolved = await reviewer.post(f"/v1/reports/{report_id}/resolve", json={})
            assert resolved.status_code == 200, resolved.text
    return report_id


@dataclass(frozen=True)
class Route:
    name: str
    state: str  # the case's state before the request
    method: str
    path: str  # {id}, and {sid} for a sighting sent untrusted from another unit
    body: dict[str, Any] | None
    ok: int


ROUTES = [
    Route("read", "submitted", "GET", "/v1/reports/{id}", None, 200),
    Route("approve", "submitted", "POST", "/v1/reports/{id}/approve", CRITERIA, 200),
    Route("reject", "submitted", "POST", "/v1/reports/{id}/reject", {"reason": "duplicate"}, 200),
    Route("renew", "approved", "POST", "/v1/reports/{id}/renew", {"ttl_hours": 48}, 200),
    Route("resolve", "approved", "POST", "/v1/reports/{id}/resolve", {"note": "found"}, 200),
    Route("withdraw", "submitted", "POST", "/v1/reports/{id}/cancel", {"reason": "false"}, 200),
    Route("cancel alert", "approved", "POST", "/v1/reports/{id}/cancel", {"reason": "x"}, 200),
    Route("sighting", "approved", "POST", "/v1/reports/{id}/sightings", sighting(True), 201),
    Route("trust", "approved", "POST", "/v1/reports/{id}/sightings/{sid}/trust", None, 200),
    Route("erase", "resolved", "POST", "/v1/reports/{id}/erase", None, 200),
    Route("correct", "approved", "PATCH", "/v1/reports/{id}", {"child": {"clothing": "x y"}}, 200),
]
# Acts that only a national key may do, whatever the unit key's scopes.
NATIONAL_ONLY = {"erase"}
# Cases are Casablanca's (filed by casa_desk); approved ones were approved by "reviewer".
ACTORS = {
    "own unit": "casa_chief",
    "other unit": "rabat_chief",
    "national": "reviewer",
    "other unit, sightings:submit only": "rabat_patrol",
}


def expected_status(route: Route, actor: str) -> int:
    if actor == "other unit":
        return 404  # as if the case did not exist
    if actor.endswith("sightings:submit only"):
        # No scope for anything but a sighting; and its sighting here claims to be trusted.
        return 403
    if route.name in NATIONAL_ONLY and actor == "own unit":
        return 403
    return route.ok


async def test_authorization_matrix_with_units(stack: Stack) -> None:
    """Every report route × own unit, other unit, national: another unit's case is a 404,
    exactly as a missing one; the own unit and national keys act as their scopes allow."""
    expected: dict[tuple[str, str], int] = {}
    got: dict[tuple[str, str], int] = {}
    for route in ROUTES:
        for actor, key in ACTORS.items():
            report_id = await new_case(stack, route.state)
            path = route.path.replace("{id}", report_id)
            if "{sid}" in path:
                async with stack.client("rabat_patrol") as patrol:
                    added = await patrol.post(
                        f"/v1/reports/{report_id}/sightings", json=sighting(False)
                    )
                    assert added.status_code == 201, added.text
                path = path.replace("{sid}", added.json()["id"])
            async with stack.client(key) as client:
                response = await client.request(route.method, path, json=route.body)
            expected[route.name, actor] = expected_status(route, actor)
            got[route.name, actor] = response.status_code
            if response.status_code == 404:
                assert response.headers["content-type"] == "application/problem+json"
                # Indistinguishable from a case that does not exist.
                assert response.json()["detail"] == f"No report {report_id}."
    assert got == expected
    # The figures the closing note reports.
    print(f"matrix: {len(got)} requests, {sum(got[k] == expected[k] for k in got)} as expected")

    # Lists: each unit key sees its own unit's cases only; national keys see all.
    async def listed(key: str) -> set[str | None]:
        async with stack.client(key) as client:
            page = (await client.get("/v1/reports", params={"limit": 200})).json()
        return {item["unit"] for item in page["items"]}

    assert await listed("casa_chief") == {"CASA-ANFA"}
    assert await listed("rabat_chief") == set()
    assert await listed("reviewer") == {"CASA-ANFA"}


async def test_a_missing_case_and_another_units_case_answer_alike(stack: Stack) -> None:
    report_id = await new_case(stack, "submitted")
    async with stack.client("rabat_chief") as rabat:
        theirs = await rabat.get(f"/v1/reports/{report_id}")
        missing = await rabat.get("/v1/reports/00000000-0000-4000-8000-000000000000")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json().keys() == missing.json().keys()
    assert theirs.json()["title"] == missing.json()["title"]


async def test_the_case_belongs_to_the_keys_unit_not_to_free_text(stack: Stack) -> None:
    body = report_body()
    async with stack.client("casa_desk") as casa:
        mine = await casa.post("/v1/reports", json=body)
        assert mine.status_code == 201
        assert mine.json()["unit"] == "CASA-ANFA"
        assert mine.json()["report"]["submitted_by"]["unit"] == "CASA-ANFA"
        body["submitted_by"] = {"unit": "RABAT-AGDAL", "officer": "Inspector Idrissi"}
        other = await casa.post("/v1/reports", json=body)
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["submitted_by.unit"]

    # A national key may file a case for a known unit, which then reaches it; not for an
    # unknown one; with no unit the case is national (national keys only).
    async with stack.client("reviewer") as central:
        body["submitted_by"] = {"unit": "RABAT-AGDAL", "officer": "Inspector Idrissi"}
        for_rabat = await central.post("/v1/reports", json=body)
        body["submitted_by"] = {"unit": "NOWHERE", "officer": "Inspector Idrissi"}
        unknown = await central.post("/v1/reports", json=body)
        national = await central.post("/v1/reports", json=report_body())
    assert for_rabat.status_code == 201 and for_rabat.json()["unit"] == "RABAT-AGDAL"
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "submitted_by.unit"
    assert national.status_code == 201 and national.json()["unit"] is None
    async with stack.client("rabat_chief") as rabat:
        assert (await rabat.get(f"/v1/reports/{for_rabat.json()['id']}")).status_code == 200
        assert (await rabat.get(f"/v1/reports/{national.json()['id']}")).status_code == 404


async def test_a_sighting_from_another_unit_is_untrusted_until_the_owning_unit_trusts_it(
    stack: Stack,
) -> None:
    report_id = await new_case(stack, "approved")
    async with stack.client("rabat_patrol") as patrol:
        trusted = await patrol.post(f"/v1/reports/{report_id}/sightings", json=sighting(True))
        added = await patrol.post(f"/v1/reports/{report_id}/sightings", json=sighting(False))
        # The scope adds sightings only: the case itself stays out of reach.
        read = await patrol.get(f"/v1/reports/{report_id}")
    assert trusted.status_code == 403
    assert "untrusted" in trusted.json()["detail"]
    assert added.status_code == 201
    assert added.json()["trusted"] is False and added.json()["unit"] == "RABAT-AGDAL"
    assert read.status_code == 403

    # A unit key with reports:submit but without sightings:submit: another unit's case is a 404.
    async with stack.client("rabat_chief") as rabat:
        refused = await rabat.post(f"/v1/reports/{report_id}/sightings", json=sighting(False))
        not_theirs = await rabat.post(
            f"/v1/reports/{report_id}/sightings/{added.json()['id']}/trust"
        )
    assert refused.status_code == not_theirs.status_code == 404

    async with stack.client("casa_desk") as casa:
        alert_id = (await casa.get(f"/v1/reports/{report_id}")).json()["alert_id"]
        trust = await casa.post(f"/v1/reports/{report_id}/sightings/{added.json()['id']}/trust")
        again = await casa.post(f"/v1/reports/{report_id}/sightings/{added.json()['id']}/trust")
        case = (await casa.get(f"/v1/reports/{report_id}")).json()
    assert trust.status_code == again.status_code == 200
    assert trust.json()["trusted"] is True and trust.json()["unit"] == "RABAT-AGDAL"
    assert [s["trusted"] for s in case["sightings"]] == [True]

    # Trusted now, the sighting (the newest location) moves the published zone: an Update.
    async with stack.client("reader") as reader:

        async def alert() -> httpx.Response:
            return await reader.get(f"/v1/alerts/{alert_id}")

        updated = await eventually(
            alert, lambda r: r.status_code == 200 and r.json()["sequence"] >= 2
        )
    current = updated.json()["current"]
    assert current["msg_type"] == "Update"
    assert current["last_seen"]["point"] == {"lat": 34.0209, "lon": -6.8416}  # the sighting's


# --- four eyes --------------------------------------------------------------------------------

FOUR_EYES = [
    # (act, case state, acting key, expected) — cases filed by "reviewer" (submit + review)
    ("approve", "submitted", "reviewer", 403),
    ("approve", "submitted", "casa_chief", 200),
    ("reject", "submitted", "reviewer", 403),
    ("reject", "submitted", "casa_chief", 200),
    ("renew", "approved", "reviewer", 403),
    ("renew", "approved", "casa_chief", 200),
    ("cancel", "approved", "reviewer", 403),
    ("cancel", "approved", "casa_chief", 200),
    ("cancel", "submitted", "reviewer", 200),  # a submitter withdraws its own case
    ("resolve", "approved", "reviewer", 200),  # immediate: no second key
]
BODIES: dict[str, dict[str, Any]] = {
    "approve": CRITERIA,
    "reject": {"reason": "not a missing child"},
    "renew": {"ttl_hours": 48},
    "cancel": {"reason": "false report"},
    "resolve": {"note": "found safe"},
}


async def _case_for_four_eyes(stack: Stack, state: str) -> str:
    # Filed by the national "reviewer" for Casablanca, so casa_chief is the second pair of eyes.
    async with stack.client("reviewer") as reviewer:
        body = report_body(submitted_by={"unit": "CASA-ANFA", "officer": "Inspector Idrissi"})
        report_id: str = (await reviewer.post("/v1/reports", json=body)).json()["id"]
    if state == "approved":
        async with stack.client("casa_chief") as other:
            response = await other.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert response.status_code == 200, response.text
    return report_id


async def test_four_eyes_on_every_act_that_reaches_the_public(stack: Stack) -> None:
    got = []
    for act, state, key, _ in FOUR_EYES:
        report_id = await _case_for_four_eyes(stack, state)
        async with stack.client(key) as client:
            response = await client.post(f"/v1/reports/{report_id}/{act}", json=BODIES[act])
        got.append((act, state, key, response.status_code))
        if response.status_code == 403:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["title"] == "Four eyes"
            assert "submitted" in response.json()["detail"]
    assert got == FOUR_EYES


async def test_a_reviewer_who_rewrote_the_case_cannot_publish_it_alone(stack: Stack) -> None:
    """The second pair of eyes is on what goes out, not only on who filed it: a key that
    changed what partners would show, or where the zone is drawn (the last-seen place, a
    trusted sighting), does not approve or renew; another reviewer does, even after the
    desk's own later edit. A correction of the guardian's contact alone is no rewrite."""
    rewrite = {"child": {"description": "Rewritten by the reviewer: red coat, short hair"}}
    moved = {"last_seen": {"place_name": "Rabat", "location": None}}
    contact = {"guardian": {"phone": "+212600000001"}}
    seen = {"place_name": "Rabat", "at": datetime.now(UTC).isoformat(), "trusted": True}
    got = []
    for change in (rewrite, moved, seen, contact):
        report_id = await new_case(stack, "submitted")
        path = f"/v1/reports/{report_id}"
        async with stack.clients("casa_chief", "casa_desk", "reviewer") as (chief, desk, central):
            if change is seen:
                changed = await chief.post(f"{path}/sightings", json=change)
            else:
                changed = await chief.patch(path, json=change)
            assert changed.status_code in (200, 201), changed.text
            # The desk's own small edit afterwards does not clear the chief's.
            later = await desk.patch(path, json={"child": {"clothing": "Red jacket, jeans"}})
            assert later.status_code == 200, later.text
            alone = await chief.post(f"{path}/approve", json=CRITERIA)
            got.append(alone.status_code)
            if alone.status_code == 403:
                assert alone.json()["title"] == "Four eyes"
                assert "changed what partners show" in alone.json()["detail"]
                second = await central.post(f"{path}/approve", json=CRITERIA)
                assert second.status_code == 200, second.text
                renewal = await chief.post(f"{path}/renew", json={"ttl_hours": 48})
                assert renewal.status_code == 403, renewal.text
    assert got == [403, 403, 403, 200]


async def test_a_submitter_without_review_scope_withdraws_but_cannot_cancel_a_public_alert(
    stack: Stack,
) -> None:
    submitted = await new_case(stack, "submitted")
    public = await new_case(stack, "approved")
    async with stack.client("casa_desk") as desk:
        withdrawn = await desk.post(f"/v1/reports/{submitted}/cancel", json={"reason": "dup"})
        cancel = await desk.post(f"/v1/reports/{public}/cancel", json={"reason": "dup"})
        reject = await desk.post(f"/v1/reports/{submitted}/reject", json={"reason": "dup"})
        resolved = await desk.post(f"/v1/reports/{public}/resolve", json={"note": "found"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    assert cancel.status_code == 403 and "reports:review" in cancel.json()["detail"]
    assert reject.status_code == 403  # the scope: rejecting is a reviewer's act
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"


async def test_a_colleague_resolves_a_report_before_review_and_it_can_no_longer_go_out(
    stack: Stack,
) -> None:
    """The child is found while the report still waits for review: the colleague who hears
    of it closes the case at once, and the reviewer who has not heard cannot publish it. A
    colleague still cannot withdraw it (that is the submitter's, or a reviewer's)."""
    waiting = await new_case(stack, "submitted")
    async with stack.client("casa_colleague") as colleague:
        withdrawal = await colleague.post(f"/v1/reports/{waiting}/cancel", json={"reason": "x"})
        found = await colleague.post(f"/v1/reports/{waiting}/resolve", json={})
    assert withdrawal.status_code == 403, withdrawal.text
    assert "resolve the case instead" in withdrawal.json()["detail"]
    assert found.status_code == 200, found.text
    assert found.json()["status"] == "resolved"
    async with stack.client("reviewer") as reviewer:
        approval = await reviewer.post(f"/v1/reports/{waiting}/approve", json=CRITERIA)
    assert approval.status_code == 409, approval.text
    # Once the alert is out, anyone who reaches the case resolves it at once.
    public = await new_case(stack, "approved")
    async with stack.client("casa_colleague") as colleague:
        found = await colleague.post(f"/v1/reports/{public}/resolve", json={})
    assert found.status_code == 200 and found.json()["status"] == "resolved"


async def test_a_case_filed_before_units_reads_as_national(stack: Stack) -> None:
    """Cases stored with a free-text ``submitted_by.unit`` (before migration 0004) stay
    readable: they belong to no unit, so national keys alone see them."""
    async with stack.client("submitter") as police:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
    sealer = stack.embedded.sealer
    assert sealer is not None
    async with stack.embedded.sessions() as session, session.begin():
        report = await session.get(Report, report_id)
        assert report is not None
        restricted = sealer.unseal(report.sealed_data)
        restricted["submitted_by"]["unit"] = "DGSN Casablanca Anfa"
        await session.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(sealed_data=sealer.seal(restricted), unit=None)
        )
    async with stack.client("reviewer") as central:
        read = await central.get(f"/v1/reports/{report_id}")
        approved = await central.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
    assert read.status_code == 200 and read.json()["unit"] is None
    assert approved.status_code == 200
    async with stack.client("casa_chief") as casa:
        assert (await casa.get(f"/v1/reports/{report_id}")).status_code == 404


async def test_a_refused_sighting_tells_another_unit_nothing_of_the_case(stack: Stack) -> None:
    """A patrol of another unit may add a sighting to a case it does not see: a refusal does
    not tell it the case's status, nor does the horizon tell it when the child was last seen
    (a sighting refused as too old, or not, found that time to the second in 19 tries): its
    sighting is taken, untrusted, whatever its time."""
    resolved_id = await new_case(stack, "resolved")
    submitted_id = await new_case(stack, "submitted")
    year_before = {**sighting(False), "at": (datetime.now(UTC) - timedelta(days=366)).isoformat()}
    async with stack.client("rabat_patrol") as patrol:
        closed = await patrol.post(f"/v1/reports/{resolved_id}/sightings", json=sighting(False))
        too_old = await patrol.post(f"/v1/reports/{submitted_id}/sightings", json=year_before)
    async with stack.client("casa_desk") as casa:
        own_closed = await casa.post(f"/v1/reports/{resolved_id}/sightings", json=sighting(False))
        own_too_old = await casa.post(f"/v1/reports/{submitted_id}/sightings", json=year_before)
    assert closed.status_code == 409
    assert "status_now" not in closed.json() and "resolved" not in closed.text
    assert too_old.status_code == 201, too_old.text
    assert too_old.json()["trusted"] is False
    # The owning unit is told both.
    assert own_closed.json()["status_now"] == "resolved"
    assert re.search(r"before \d{4}-\d\d-\d\dT", own_too_old.json()["detail"]), own_too_old.json()


async def _key_id(stack: Stack, persona: str) -> str:
    async with stack.client(persona) as client:
        key_id: str = (await client.get("/v1/keys/me")).json()["id"]
    return key_id


async def test_the_reviewer_of_a_case_is_the_key_that_decided_its_review(stack: Stack) -> None:
    """Renewing or cancelling an alert later does not rewrite who approved it, and a
    withdrawal by the submitter is no review (it read as a case its submitter reviewed)."""
    reviewer, chief = await _key_id(stack, "reviewer"), await _key_id(stack, "casa_chief")
    public = await new_case(stack, "approved")  # filed by casa_desk, approved by "reviewer"
    async with stack.client("casa_chief") as other:
        renewed = await other.post(f"/v1/reports/{public}/renew", json={"ttl_hours": 48})
        cancelled = await other.post(f"/v1/reports/{public}/cancel", json={"reason": "dup"})
    assert renewed.status_code == 200 and renewed.json()["reviewed_by_key"] == reviewer
    assert cancelled.status_code == 200 and cancelled.json()["reviewed_by_key"] == reviewer
    withdrawn_id = await new_case(stack, "submitted")
    async with stack.client("casa_desk") as desk:
        withdrawn = await desk.post(f"/v1/reports/{withdrawn_id}/cancel", json={"reason": "dup"})
    assert withdrawn.status_code == 200 and withdrawn.json()["reviewed_by_key"] is None
    turned_down_id = await new_case(stack, "submitted")
    async with stack.client("casa_chief") as other:
        turned_down = await other.post(
            f"/v1/reports/{turned_down_id}/cancel", json={"reason": "filed twice"}
        )
    assert turned_down.status_code == 200 and turned_down.json()["reviewed_by_key"] == chief


async def test_an_act_tells_a_key_that_cannot_read_cases_their_state_only(stack: Stack) -> None:
    """An empty correction answered the whole case (the family, the guardian's phone) to a key
    without ``reports:read``, which ``GET`` refuses: any case of its unit for a filing desk,
    any in the country for a national reviewer. An act now tells such a key the case's state
    (status, version, alert), not its contents."""
    report_id = await new_case(stack, "submitted")
    async with stack.client("casa_filer") as filer:
        refused = await filer.get(f"/v1/reports/{report_id}")
        empty = await filer.patch(f"/v1/reports/{report_id}", json={})
    async with stack.client("blind_reviewer") as reviewer:
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
    async with stack.client("casa_desk") as desk:
        resolved = await desk.post(f"/v1/reports/{report_id}/resolve", json={"note": "home"})
    assert refused.status_code == 403
    for answer, status in ((empty, "submitted"), (approved, "approved")):
        assert answer.status_code == 200, answer.text
        case = answer.json()
        assert (case["id"], case["status"]) == (report_id, status)
        assert case["version"] and case["report"] is None
        assert case["sightings"] == [] and case["status_reason"] is None
    assert approved.json()["alert_id"] is not None
    # A key that reads cases is answered with them, as before.
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["report"]["child"]["family_name"]
    assert resolved.json()["status_reason"] == "home"


async def test_a_submission_sent_again_tells_a_key_that_cannot_read_cases_its_state_only(
    stack: Stack,
) -> None:
    """Sent again under its Idempotency-Key, a filing desk's submission answered the case as
    it stands now: a colleague's correction, another unit's sighting, the closing note."""
    body, key = report_body(), {"Idempotency-Key": "filed-once"}
    async with stack.client("casa_filer") as filer:
        filed = await filer.post("/v1/reports", json=body, headers=key)
        report_id = filed.json()["id"]
        async with stack.client("casa_desk") as desk:
            note = await desk.post(f"/v1/reports/{report_id}/resolve", json={"note": "home"})
        again = await filer.post("/v1/reports", json=body, headers=key)
    assert filed.status_code == 201 and note.status_code == 200, note.text
    assert filed.json()["report"] is not None  # what the key itself sent
    assert again.status_code == 201, again.text  # the answer the first one had
    case = again.json()
    assert (case["id"], case["status"]) == (report_id, "resolved")
    assert case["report"] is None and case["status_reason"] is None and case["sightings"] == []


async def test_a_sighting_is_trusted_by_a_key_that_can_read_it(stack: Stack) -> None:
    """Trusting answered the sighting in full (where, when, what was seen) to a key without
    ``reports:read``; and vouching for a sighting one cannot read is no review of it."""
    report_id = await new_case(stack, "submitted")
    async with stack.client("rabat_patrol") as patrol:
        seen = await patrol.post(f"/v1/reports/{report_id}/sightings", json=sighting(False))
    trust = f"/v1/reports/{report_id}/sightings/{seen.json()['id']}/trust"
    async with stack.client("casa_filer") as filer:
        refused = await filer.post(trust)
    async with stack.client("casa_desk") as desk:
        still = (await desk.get(f"/v1/reports/{report_id}")).json()["sightings"]
        trusted = await desk.post(trust)
    assert seen.status_code == 201, seen.text
    assert refused.status_code == 403 and "reports:read" in refused.json()["detail"]
    assert [s["trusted"] for s in still] == [False]
    assert trusted.status_code == 200 and trusted.json()["trusted"] is True
