"""An id the API gave, sent back in capitals (as .NET and SQL Server print UUIDs), finds what
it names, in a path or a filter; anything else is still not found."""

from __future__ import annotations

from pathlib import Path

from services.testbed.partner import partner_endpoint
from services.testbed.stack import embedded_settings, start_stack
from tests.flows import an_alert_on_its_way, an_approved_case


async def test_ids_in_capitals_find_what_they_name(tmp_path: Path) -> None:
    stack, server = await start_stack(embedded_settings(tmp_path))
    try:
        async with partner_endpoint() as partner:
            partner_id = str((await stack.register_partner(partner))["id"])
            async with stack.clients("submitter", "reviewer", "admin") as (police, reviewer, admin):
                report, alert_id = await an_approved_case(police, reviewer)
                await an_alert_on_its_way(stack)
                report_id = report.rsplit("/", 1)[1]
                [delivery] = [
                    d for d in await stack.deliveries() if d["event_type"] == "alert.issued"
                ]
                delivery_id = str(delivery["id"])
                assert report_id.islower() and alert_id.islower()  # as the API writes them

                found = {
                    "report": await police.get(f"/v1/reports/{report_id.upper()}"),
                    "alert": await admin.get(f"/v1/alerts/{alert_id.upper()}"),
                    "partner": await admin.get(f"/v1/partners/{partner_id.upper()}"),
                    "delivery": await admin.get(f"/v1/deliveries/{delivery_id.upper()}"),
                }
                for noun, response in found.items():
                    assert response.status_code == 200, (noun, response.text)
                assert [r.json()["id"] for r in found.values()] == [
                    report_id,
                    alert_id,
                    partner_id,
                    delivery_id,
                ]
                filtered = await stack.deliveries(alert_id=alert_id.upper())
                assert delivery_id in [d["id"] for d in filtered]
                assert {d["alert_id"] for d in filtered} == {alert_id}

                # Only a UUID's letter case is forgiven: another id is still another.
                other = report_id[:-1] + ("0" if report_id[-1] != "0" else "1")
                assert (await police.get(f"/v1/reports/{other.upper()}")).status_code == 404
                assert (await police.get(f"/v1/reports/{report_id}X")).status_code == 404
    finally:
        await server.__aexit__(None, None, None)
