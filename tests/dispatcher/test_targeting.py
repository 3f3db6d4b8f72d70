"""Targeting: a partner gets an alert only if its coverage meets the zone, and then follows
that alert to its end."""

from __future__ import annotations

import json
from typing import Any

from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack

DAKHLA_AREA = {
    "type": "Polygon",
    "coordinates": [[[-16.5, 23.0], [-15.2, 23.0], [-15.2, 24.2], [-16.5, 24.2], [-16.5, 23.0]]],
}
CASABLANCA_AREA = {
    "type": "Polygon",
    "coordinates": [[[-7.8, 33.4], [-7.3, 33.4], [-7.3, 33.7], [-7.8, 33.7], [-7.8, 33.4]]],
}


async def _register(stack: Stack, url: str, token: str, coverage: dict[str, Any]) -> None:
    async with stack.client("admin") as admin:
        response = await admin.post(
            "/v1/partners",
            json={"name": "regional", "url": url, "verify_token": token, "coverage": coverage},
        )
    assert response.json()["status"] == "active", response.text


async def test_only_partners_covering_the_zone_get_the_alert(stack: Stack) -> None:
    async with partner_endpoint() as south, partner_endpoint() as casa:
        await _register(stack, south.url, south.verify_token, DAKHLA_AREA)
        await _register(stack, casa.url, casa.verify_token, CASABLANCA_AREA)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            await casa.wait_for(1)
            await police.post(f"/v1/reports/{report_id}/resolve", json={})
            received = await casa.wait_for(2)
        await stack.bus.wait_idle()
        assert [json.loads(r.body)["type"] for r in received] == ["alert.issued", "alert.cancelled"]
        assert south.received == []  # 1,000 km away: neither the alert nor its Cancel
