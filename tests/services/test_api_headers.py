"""API answers hold personal data: no cache may keep them, unless a route chose its caching."""

from __future__ import annotations

from pathlib import Path

from services.testbed.sample_report import report_body
from services.testbed.stack import embedded_settings, start_stack


async def test_answers_with_personal_data_are_not_stored(tmp_path: Path) -> None:
    running, server = await start_stack(embedded_settings(tmp_path))
    try:
        async with running.client("submitter") as police:
            created = await police.post("/v1/reports", json=report_body())
            case = await police.get(f"/v1/reports/{created.json()['id']}")
            base_map = await police.get("/v1/map/base")
        async with running.client() as anonymous:
            refused = await anonymous.get("/v1/reports")
            outside = [
                await anonymous.get(path)
                for path in (
                    "/healthz",
                    "/readyz",
                    "/metrics",
                    "/openapi.json",
                    "/docs",
                    "/docs-assets/swagger-ui.css",
                )
            ]
    finally:
        await server.__aexit__(None, None, None)
    assert "Benali" in case.text  # the family name: what must not be kept
    for answer in (created, case, refused):
        assert answer.headers["cache-control"] == "no-store", answer.headers
        assert answer.headers["x-content-type-options"] == "nosniff"
    # The base map holds no personal data and says how to cache it: that stays.
    assert base_map.status_code == 200
    assert "no-store" not in base_map.headers["cache-control"]
    # Outside the API, nothing personal, so caching is the route's own; never sniffed.
    for answer in outside:
        assert answer.status_code == 200, answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff", answer.request.url
