"""The case flow every run mode must pass, and the partner-side checks it makes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from alert_engine.consumer import GROUP as ENGINE_GROUP
from services.testbed.partner import PartnerEndpoint, Received, partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.inbox import ProcessedEvent
from tests.waiting import eventually

EARTH_MEAN_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Independent of the project's geodesy: spherical, good to about 0.5%."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * math.asin(math.sqrt(a))


def _destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """(lon, lat) reached from a point along a bearing, on the sphere (independent maths)."""
    d, b = distance_m / EARTH_MEAN_RADIUS_M, math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(l2), math.degrees(p2)


def verify_both_signatures(secret: str, received: Received, *, previous: bool = False) -> None:
    """What a partner does, by hand: Meta's header keyed with the whole secret string,
    Standard Webhooks keyed with the base64-decoded bytes after 'whsec_'. ``previous``: the
    secret a rotation replaced, whose Meta signature has a header of its own."""
    expected_meta = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    meta_header = "x-hub-signature-256" + ("-previous" if previous else "")
    assert hmac.compare_digest(received.headers[meta_header], expected_meta)
    webhook_id = received.headers["webhook-id"]
    timestamp = received.headers["webhook-timestamp"]
    assert abs(int(timestamp) - datetime.now(UTC).timestamp()) < 300
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + received.body
    expected_std = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert expected_std in received.headers["webhook-signature"].split(" ")


async def an_approved_case(
    police: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> tuple[str, str]:
    """Submit the sample report and approve it with another key: (the report's path, the
    alert's id)."""
    created = await police.post("/v1/reports", json=report_body())
    assert created.status_code == 201, created.text
    report = f"/v1/reports/{created.json()['id']}"
    approved = await reviewer.post(f"{report}/approve", json=CRITERIA)
    assert approved.status_code == 200, approved.text
    return report, str(approved.json()["alert_id"])


async def engine_processed(stack: Stack) -> int:
    """How many events the alert engine has handled (finished, or found it had already)."""
    async with stack.embedded.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.consumer_group == ENGINE_GROUP)
        )
    return int(count or 0)


async def an_alert_on_its_way(stack: Stack) -> None:
    """Waits until an Alert is planned for a partner: the engine has issued it. A resolution
    sent before that may reach the engine right behind its approval, and then no Alert is
    ever issued (nothing to cancel)."""
    await eventually(
        lambda: stack.deliveries(),
        lambda items: any(d["event_type"] == "alert.issued" for d in items),
    )


async def a_dead_cancel(stack: Stack, partner: PartnerEndpoint) -> dict[str, Any]:
    """Register ``partner``, down from the start (500), then approve and resolve a case: its
    Cancel dies after the stack's retries (``short_cancel_stack``). The partner stays down."""
    await stack.register_partner(partner)
    partner.failing_with = 500
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=report_body())
        report = f"/v1/reports/{created.json()['id']}"
        assert (await reviewer.post(f"{report}/approve", json=CRITERIA)).status_code == 200
        await an_alert_on_its_way(stack)
        assert (await police.post(f"{report}/resolve", json={})).status_code == 200
    [dead] = await eventually(
        lambda: stack.deliveries(status="dead"), lambda items: len(items) == 1, timeout=60
    )
    return dead


async def full_case_flow(stack: Stack) -> None:
    """Register a partner, submit, approve, check the signed alert, correct it (an Update),
    resolve, check the Cancel."""
    last_seen_at = datetime.now(UTC) - timedelta(hours=3)
    body = report_body()
    body["last_seen"]["at"] = last_seen_at.isoformat()
    async with partner_endpoint() as partner, partner_endpoint() as latecomer:
        registered = await stack.register_partner(partner)
        assert partner.handshakes == 1
        secret = str(registered["secret"])

        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            created = await police.post("/v1/reports", json=body)
            assert created.status_code == 201, created.text
            report_id = created.json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            alert_id = approved.json()["alert_id"]
            approved_at = datetime.fromisoformat(approved.json()["updated_at"])

            [first] = await partner.wait_for(1)
            verify_both_signatures(secret, first)
            payload = json.loads(first.body)
            assert payload["type"] == "alert.issued"
            assert payload["id"] == first.headers["webhook-id"]
            alert = payload["alert"]
            assert alert["alert_id"] == alert_id and alert["msg_type"] == "Alert"
            assert alert["sequence"] == 1 and alert["references"] == []
            assert {i["language"] for i in alert["info"]} == {"ar", "fr", "zgh", "en"}
            assert all(
                len(i["description"]) <= 360 and len(i["short_text"]) <= 90 for i in alert["info"]
            )
            assert alert["status"] == "Actual"

            # The zone: valid GeoJSON, around the last-seen point, radius per the formula.
            zone = shape(alert["area"]["geojson"])
            assert zone.geom_type == "Polygon" and zone.is_valid
            assert zone.exterior.is_ccw  # RFC 7946 winding
            lat, lon = 33.5731, -7.5898
            assert zone.contains(Point(lon, lat))
            elapsed_h = (approved_at - last_seen_at).total_seconds() / 3600
            expected_m = max(160.0, 80.0 * elapsed_h) * 1000  # vehicle: 80 km/h, floor 160 km
            assert expected_m > 160_000  # three hours by vehicle outgrow the floor
            assert alert["area"]["circle"]["radius_km"] * 1000 == pytest.approx(
                expected_m, rel=0.01
            )
            # The polygon is the disk clipped to Morocco: nothing of it lies beyond the radius,
            # and inland, where the disk is all territory, it reaches out to the radius.
            distances = [haversine_m(lat, lon, y, x) for x, y in zone.exterior.coords]
            assert max(distances) == pytest.approx(expected_m, rel=0.01)
            assert max(distances) <= expected_m * 1.01
            inland = _destination(lat, lon, bearing_deg=100, distance_m=0.97 * expected_m)
            assert zone.contains(Point(*inland))  # east-south-east of Casablanca: Morocco
            assert alert["area"]["vertex_count"] <= 100
            assert "MA-06" in alert["area"]["geocodes"]  # Casablanca-Settat

            # Privacy: restricted fields never leave intake.
            for secret_field in ("Benali", "600 000 000", "Idrissi", "Anfa", "witness"):
                assert secret_field not in first.body.decode()

            # A partner that joins while the alert is up gets it at once, then its take-down.
            joined = await stack.register_partner(latecomer)
            [caught_up] = await latecomer.wait_for(1)
            verify_both_signatures(str(joined["secret"]), caught_up)
            assert json.loads(caught_up.body)["alert"] == alert

            # The zone is readable through the API as GeoJSON too.
            async with stack.client("reader") as reader:
                geo = await reader.get(f"/v1/alerts/{alert_id}/zone")
            assert geo.status_code == 200
            assert geo.headers["content-type"].startswith("application/geo+json")
            assert shape(geo.json()["geometry"]).equals(zone)
            properties = geo.json()["properties"]
            assert properties["circles"] == [
                {"center": [lon, lat], "radius_km": alert["area"]["circle"]["radius_km"]}
            ]
            assert properties["targeting"] == alert["area"]["targeting"]
            assert (properties["overshoot_land_m"] <= 161.0) == (
                properties["targeting"] == "polygon"
            )

            # A correction of what partners show, by a second reviewer: an Update at once,
            # with nothing restricted in it.
            clothing = "Robe rouge, cartable bleu"
            corrected = await reviewer.patch(
                f"/v1/reports/{report_id}", json={"child": {"clothing": clothing}}
            )
            assert corrected.status_code == 200, corrected.text
            _, update = await partner.wait_for(2)
            verify_both_signatures(secret, update)
            updated = json.loads(update.body)
            assert updated["type"] == "alert.updated" and updated["alert"]["sequence"] == 2
            assert updated["alert"]["child"]["clothing"] == clothing
            for secret_field in ("Benali", "600 000 000", "Idrissi", "Anfa", "witness"):
                assert secret_field not in update.body.decode()
            await latecomer.wait_for(2)

            resolved = await police.post(f"/v1/reports/{report_id}/resolve", json={})
            assert resolved.status_code == 200, resolved.text
            assert resolved.json()["status"] == "resolved"

            *_, second = await partner.wait_for(3)
            verify_both_signatures(secret, second)
            cancel = json.loads(second.body)
            assert cancel["type"] == "alert.cancelled"
            assert cancel["id"] == second.headers["webhook-id"] != first.headers["webhook-id"]
            assert cancel["alert"]["msg_type"] == "Cancel"
            assert cancel["alert"]["sequence"] == 3
            assert any(alert["identifier"] in ref for ref in cancel["alert"]["references"])
            assert cancel["alert"]["child"] is None  # take-down carries no child data
            *_, late_cancel = await latecomer.wait_for(3)
            assert json.loads(late_cancel.body)["type"] == "alert.cancelled"

            # Erased at once by an operator: the photos leave what the engine kept of what
            # partners were sent, its CAP included (the deliveries log: test_retention.py).
            assert alert["photo_urls"]
            erased = await reviewer.post(f"/v1/reports/{report_id}/erase")
            assert erased.status_code == 200, erased.text
            async with stack.client("reader") as reader:
                first_version = f"/v1/alerts/{alert_id}/versions/1"
                await eventually(
                    lambda: reader.get(first_version), lambda r: r.json()["photo_urls"] == []
                )
                cap = await reader.get(f"/v1/alerts/{alert_id}/cap", params={"sequence": 1})
            assert alert["photo_urls"][0] in first.body.decode()  # as it was sent
            assert alert["photo_urls"][0] not in cap.text
