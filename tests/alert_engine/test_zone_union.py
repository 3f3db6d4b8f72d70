"""The zone through the whole stack: a heading stretches it, trusted sightings join it as a
union, an older sighting widens it without moving the centre, and a fix newer than the
horizon drops the old locations. Simulated time drives the engine; the API shows the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import shapely
from pyproj import Geod
from sqlalchemy import func, select

from alert_engine.consumer import GROUP
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import FakeClock, Stack, embedded_settings, start_stack
from shared.alert_contract import Point
from shared.events import SightingAdded, SightingAddedData
from shared.inbox import ProcessedEvent
from shared.outbox import add_event
from tests.waiting import eventually

GEOD = Geod(ellps="WGS84")
HOUR = timedelta(hours=1)
# Inland, so that both ways along the heading are Moroccan land (checked against the shipped
# territory): 300 km north-east is near Guercif, 300 km south-west near Imintanoute.
BENI_MELLAL = Point(lat=32.3373, lon=-6.3498)
MARRAKECH = Point(lat=31.6295, lon=-7.9811)
OUARZAZATE = Point(lat=30.9189, lon=-6.8934)
RABAT = Point(lat=34.0209, lon=-6.8416)


def _along(point: Point, azimuth: float, km: float) -> shapely.Point:
    lon, lat, _ = GEOD.fwd(point.lon, point.lat, azimuth, km * 1000)
    return shapely.Point(lon, lat)


async def _alert(reader: httpx.AsyncClient, alert_id: str, sequence: int) -> dict[str, Any]:
    response = await eventually(
        lambda: reader.get(f"/v1/alerts/{alert_id}"),
        lambda r: r.status_code == 200 and r.json()["sequence"] >= sequence,
    )
    body: dict[str, Any] = response.json()
    assert body["sequence"] == sequence, body["history"]
    return body


async def _processed(stack: Stack) -> int:
    async with stack.embedded.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.consumer_group == GROUP)
        )
    return int(count or 0)


async def _handled_one_more(stack: Stack, before: int) -> None:
    """The engine has handled one more report event (whatever it decided)."""
    await eventually(lambda: _processed(stack), lambda n: n == before + 1)


async def _timer_state(reader: httpx.AsyncClient, alert_id: str, clock: FakeClock) -> str:
    """What the timers saw, for a failure's message: the alert's state and due times."""
    body = (await reader.get(f"/v1/alerts/{alert_id}")).json()
    due = {k: body.get(k) for k in ("state", "sequence", "next_widen_at", "expires")}
    return f"clock {clock.now().isoformat()}, alert {due}"


async def test_heading_union_and_horizon(tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    clock = FakeClock(start)
    settings = embedded_settings(tmp_path)
    body = report_body(travel_mode="vehicle")
    body["last_seen"] = {
        "location": BENI_MELLAL.model_dump(),
        "at": (start - 5 * HOUR).isoformat(),  # 5 h by vehicle: a 400 km reach
        "heading_deg": 60.0,
    }
    stack, server = await start_stack(settings, clock, timer_loop=False)
    try:
        async with (
            stack.client("submitter") as police,
            stack.client("reviewer") as reviewer,
            stack.client("reader") as reader,
        ):
            report_id = (await police.post("/v1/reports", json=body)).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            alert_id = approved.json()["alert_id"]

            # A corridor: 300 km ahead is in, 300 km behind is not; the circle stays inside.
            issued = (await _alert(reader, alert_id, 1))["current"]
            zone = shapely.geometry.shape(issued["area"]["geojson"])
            assert zone.contains(_along(BENI_MELLAL, 60, 300))
            assert not zone.contains(_along(BENI_MELLAL, 240, 300))
            assert zone.contains(_along(BENI_MELLAL, 240, 150))  # the floor disk around it
            assert issued["area"]["circle"] == {
                "center": BENI_MELLAL.model_dump(),
                "radius_km": 160.0,
            }
            assert issued["last_seen"]["heading_deg"] == 60.0
            south_of_marrakech = _along(MARRAKECH, 135, 290)  # near Zagora
            assert not zone.contains(south_of_marrakech)

            # A trusted sighting an hour after the last-seen time: the centre moves to it,
            # and the zone is the union of both.
            sightings = f"/v1/reports/{report_id}/sightings"
            first = {"location": MARRAKECH.model_dump(), "at": (start - 4 * HOUR).isoformat()}
            added = await police.post(sightings, json={**first, "trusted": True})
            assert added.status_code == 201, added.text
            update = (await _alert(reader, alert_id, 2))["current"]
            assert update["msg_type"] == "Update"
            zone = shapely.geometry.shape(update["area"]["geojson"])
            assert zone.contains(south_of_marrakech)  # the sighting's 320 km disk
            assert zone.contains(_along(BENI_MELLAL, 60, 300))  # the corridor is kept
            assert update["last_seen"]["point"] == MARRAKECH.model_dump()
            assert update["last_seen"]["heading_deg"] is None
            assert [c["center"] for c in update["area"]["circles"]] == [
                MARRAKECH.model_dump(),
                BENI_MELLAL.model_dump(),
            ]

            # Redelivered under another event id: the sighting is already part of the zone.
            sighting_id = added.json()["id"]
            before = await _processed(stack)
            async with stack.embedded.sessions() as session, session.begin():
                data = SightingAddedData(
                    report_id=report_id,
                    sighting_id=sighting_id,
                    point=MARRAKECH,
                    place=None,
                    seen_at=start - 4 * HOUR,
                    trusted=True,
                )
                await add_event(session, SightingAdded(source="test", subject=report_id, data=data))
            await _handled_one_more(stack, before)
            # An untrusted sighting changes nothing either.
            before = await _processed(stack)
            elsewhere = {"location": RABAT.model_dump(), "at": (start - HOUR).isoformat()}
            assert (await police.post(sightings, json=elsewhere)).status_code == 201
            await _handled_one_more(stack, before)
            assert (await reader.get(f"/v1/alerts/{alert_id}")).json()["sequence"] == 2

            # An older trusted sighting, within the horizon of the newest: evidence too, so it
            # joins the union, but the centre stays on the newest.
            older = {"location": OUARZAZATE.model_dump(), "at": (start - 6 * HOUR).isoformat()}
            assert (await police.post(sightings, json={**older, "trusted": True})).is_success
            update = (await _alert(reader, alert_id, 3))["current"]
            assert update["last_seen"]["point"] == MARRAKECH.model_dump()
            assert len(update["area"]["circles"]) == 3
            assert update["area"]["circles"][2] == {
                "center": OUARZAZATE.model_dump(),
                "radius_km": 480.0,
            }

            # Time passes: the widening timer grows every piece; none drops out with time.
            clock.advance(HOUR)
            assert stack.embedded.timers is not None
            handled = await stack.embedded.timers.run_due()
            assert handled == 1, await _timer_state(reader, alert_id, clock)
            update = (await _alert(reader, alert_id, 4))["current"]
            assert [c["radius_km"] for c in update["area"]["circles"]] == [400.0, 168.0, 560.0]
            zone = shapely.geometry.shape(update["area"]["geojson"])
            assert zone.contains(_along(BENI_MELLAL, 60, 300))

            # A fix more than the horizon (3 h) newer than all the others: they drop out.
            latest = {"location": RABAT.model_dump(), "at": (start - HOUR / 2).isoformat()}
            assert (await police.post(sightings, json={**latest, "trusted": True})).is_success
            update = (await _alert(reader, alert_id, 5))["current"]
            assert update["area"]["circles"] == [{"center": RABAT.model_dump(), "radius_km": 160.0}]
            zone = shapely.geometry.shape(update["area"]["geojson"])
            assert zone.contains(shapely.Point(RABAT.lon, RABAT.lat))
            assert not zone.contains(_along(BENI_MELLAL, 60, 300))
            assert not zone.contains(south_of_marrakech)
    finally:
        await server.__aexit__(None, None, None)


async def test_sightings_made_while_the_case_awaited_review_join_the_first_alert(
    stack: Stack,
) -> None:
    """A trusted sighting added before the approval reached the engine when no alert existed:
    the first Alert was drawn, and its texts written, from the report's older last-seen point
    alone (the public was told the child was last seen where they no longer were)."""
    start = datetime.now(UTC).replace(microsecond=0)
    body = report_body(travel_mode="vehicle")
    body["last_seen"] = {"location": BENI_MELLAL.model_dump(), "at": (start - HOUR).isoformat()}
    async with stack.clients("submitter", "reviewer", "reader") as (police, reviewer, reader):
        report_id = (await police.post("/v1/reports", json=body)).json()["id"]
        sightings = f"/v1/reports/{report_id}/sightings"
        seen = start - timedelta(minutes=10)
        trusted = {"place_name": "Rabat", "at": seen.isoformat(), "trusted": True}
        assert (await police.post(sightings, json=trusted)).status_code == 201
        untrusted = {"location": OUARZAZATE.model_dump(), "at": seen.isoformat()}
        assert (await police.post(sightings, json=untrusted)).status_code == 201
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        issued = (await _alert(reader, approved.json()["alert_id"], 1))["current"]
    assert issued["msg_type"] == "Alert"
    rabat = issued["last_seen"]["point"]
    assert abs(rabat["lat"] - RABAT.lat) < 0.1 and abs(rabat["lon"] - RABAT.lon) < 0.1
    assert datetime.fromisoformat(issued["last_seen"]["time"]) == seen
    centres = [c["center"] for c in issued["area"]["circles"]]
    assert centres == [rabat, BENI_MELLAL.model_dump()]  # the untrusted one is not in it
    french = next(i for i in issued["info"] if i["language"] == "fr")
    assert "à Rabat le" in french["description"], french["description"]
