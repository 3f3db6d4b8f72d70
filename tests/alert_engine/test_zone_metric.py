"""The engine's zone time is observed: operators (and the end-to-end benchmark's breakdown)
read it from /metrics."""

from __future__ import annotations

import httpx

from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.metric_samples import sample_value
from tests.waiting import eventually


async def test_each_zone_computed_is_timed(stack: Stack) -> None:
    async with stack.client() as anonymous:

        async def zones_timed() -> float:
            return sample_value((await anonymous.get("/metrics")).text, "tifli_zone_seconds_count")

        before = await zones_timed()
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            created = await police.post("/v1/reports", json=report_body())
            approved = await reviewer.post(
                f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA
            )
            assert approved.status_code == 200, approved.text
            alert_id = approved.json()["alert_id"]
        async with stack.client("reader") as reader:

            async def issued() -> httpx.Response:
                return await reader.get(f"/v1/alerts/{alert_id}")

            await eventually(issued, lambda r: r.status_code == 200)
        assert await zones_timed() == before + 1
