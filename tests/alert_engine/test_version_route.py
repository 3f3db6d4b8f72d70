"""GET /v1/alerts/{id}/versions/{n} over real HTTP: each version as partners received it."""

from __future__ import annotations

from tests.conftest import CRITERIA, Stack, report_body
from tests.waiting import eventually


async def test_each_version_as_sent(stack: Stack) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
        async with stack.client("reader") as reader:
            first = await eventually(
                lambda: reader.get(f"/v1/alerts/{alert_id}/versions/1"),
                lambda r: r.status_code != 404,
            )
            assert first.status_code == 200, first.text
            assert first.json()["msg_type"] == "Alert"
            assert first.json()["area"]["vertex_count"] > 3
            await police.post(f"/v1/reports/{report_id}/resolve", json={})
            alert = await eventually(
                lambda: reader.get(f"/v1/alerts/{alert_id}"),
                lambda r: r.json()["sequence"] == 2,
            )
            second = await reader.get(f"/v1/alerts/{alert_id}/versions/2")
            assert second.json() == alert.json()["current"]
            assert second.json()["msg_type"] == "Cancel"
            # An earlier version stays as it was sent.
            assert (await reader.get(f"/v1/alerts/{alert_id}/versions/1")).json() == first.json()

            missing = await reader.get(f"/v1/alerts/{alert_id}/versions/3")
            assert missing.status_code == 404
            assert missing.headers["content-type"].startswith("application/problem+json")
            bad = await reader.get(f"/v1/alerts/{alert_id}/versions/0")
            assert bad.status_code == 422
            assert bad.json()["errors"][0]["field"].endswith("sequence")
        refused = await police.get(f"/v1/alerts/{alert_id}/versions/1")
        assert refused.status_code == 403
    async with stack.client() as anonymous:
        assert (await anonymous.get(f"/v1/alerts/{alert_id}/versions/1")).status_code == 401
