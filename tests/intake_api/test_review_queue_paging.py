"""Walking a list that changes under the walk: by cursor, no case (or alert) is skipped or shown
twice while the reviewer approves what it has seen (by offset, every approved case would shift the
rest of the queue past the next page). Through the real HTTP API."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.flows import an_approved_case
from tests.waiting import eventually


async def _walk(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], act: Any = None
) -> list[str]:
    """Every id the list shows, page by page by cursor; ``act`` runs on each page's items."""
    seen: list[str] = []
    cursor = None
    while True:
        answer = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += [item["id"] for item in page["items"]]
        if act is not None:
            await act(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            assert page["next_offset"] is None
            return seen


async def test_the_review_queue_walked_while_approving_shows_every_case_once(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        submitted = []
        for _ in range(13):
            created = await police.post("/v1/reports", json=report_body())
            submitted.append(created.json()["id"])

        async def approve_and_add_one(items: list[dict[str, Any]]) -> None:
            for item in items:
                answer = await reviewer.post(f"/v1/reports/{item['id']}/approve", json=CRITERIA)
                assert answer.status_code == 200, answer.text
            # A new case meanwhile goes to the front: the walk, past it, does not see it.
            await police.post("/v1/reports", json=report_body())

        seen = await _walk(
            reviewer, "/v1/reports", {"status": "submitted", "limit": 3}, approve_and_add_one
        )
    assert len(seen) == len(set(seen)) == 13
    assert set(seen) == set(submitted)


def _cursor(at: str, key: str) -> str:
    text = json.dumps([at, key]).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


# Times at the ends of the calendar, whose offset takes them past it in UTC (a 500 once).
EDGE_OF_TIME = [
    _cursor("0001-01-01T00:00:00+14:00", "x"),
    _cursor("9999-12-31T23:59:59-23:59", "x"),
]


async def test_a_cursor_is_checked(stack: Stack) -> None:
    async with stack.client("reader") as reader, stack.client("admin") as admin:
        junk = ["not-a-cursor", "W10", "WyJ4IiwgMV0"]  # junk, [], ["x", 1]
        lists = (("/v1/reports", reader), ("/v1/alerts", reader), ("/v1/deliveries", admin))
        for path, client in lists:
            for bad in [*junk, *EDGE_OF_TIME]:
                answer = await client.get(path, params={"cursor": bad})
                assert answer.status_code == 422, (path, bad, answer.text)
                assert [e["field"] for e in answer.json()["errors"]] == ["query.cursor"]
        both = await reader.get("/v1/reports", params={"cursor": "W10", "offset": 3})
    assert both.status_code == 422
    assert [e["field"] for e in both.json()["errors"]] == ["query.offset"]


async def test_deliveries_page_by_cursor_too(stack: Stack) -> None:
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            for _ in range(3):
                created = await police.post("/v1/reports", json=report_body())
                approve = f"/v1/reports/{created.json()['id']}/approve"
                assert (await reviewer.post(approve, json=CRITERIA)).status_code == 200
        await partner.wait_for(3)
    async with stack.client("admin") as admin:
        seen = await _walk(admin, "/v1/deliveries", {"limit": 1})
    assert len(seen) == len(set(seen)) == 3


async def test_active_alerts_walked_while_their_cases_are_resolved_show_each_once(
    stack: Stack,
) -> None:
    async with (
        stack.client("submitter") as police,
        stack.client("reviewer") as reviewer,
        stack.client("reader") as reader,
    ):
        case_of = {}
        for _ in range(7):
            report, alert_id = await an_approved_case(police, reviewer)
            case_of[alert_id] = report

        async def states(alert_ids: list[str]) -> list[str | None]:
            # None: not issued yet (the approval's event is still on its way to the engine).
            return [(await reader.get(f"/v1/alerts/{a}")).json().get("state") for a in alert_ids]

        await eventually(lambda: states(list(case_of)), lambda s: s == ["active"] * 7)

        async def resolve_them(items: list[dict[str, Any]]) -> None:
            for item in items:
                resolved = await police.post(f"{case_of[item['id']]}/resolve", json={})
                assert resolved.status_code == 200, resolved.text
            # Gone from the active list before the next page is asked for.
            ids = [item["id"] for item in items]
            await eventually(lambda: states(ids), lambda s: set(s) == {"cancelled"})

        seen = await _walk(reader, "/v1/alerts", {"state": "active", "limit": 2}, resolve_them)
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == set(case_of)
