"""Zones drawn while a report awaits review: the approval's zone is the one drawn, unchanged,
and only zones the approval can use are drawn."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import shapely

from alert_engine import service as service_module
from alert_engine.composer import area_of, clipped_zone, prepare_zone
from alert_engine.footprint import footprint
from alert_engine.locations import TrustedLocation
from alert_engine.pieces import disk_piece, pieces_at
from alert_engine.prepared_zones import ClippedZone, PreparedZones
from alert_engine.service import prepare_for_review
from alert_engine.territory import default_paths, load_territory
from alert_engine.zone_policy import ZonePolicy
from services.components import engine_config
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.alert_contract import Point
from shared.events import ReportSubmittedData, ZoneInputs
from shared.settings import Settings
from tests.metric_samples import sample_value
from tests.waiting import eventually

TERRITORY = load_territory(*default_paths())
POLICY = ZonePolicy(territory=TERRITORY)
FES = Point(lat=34.0331, lon=-5.0003)
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _inputs(last_seen_ago: timedelta, mode: str = "vehicle", **where: object) -> ZoneInputs:
    return ZoneInputs.model_validate(
        {"point": FES, "at": NOW - last_seen_ago, "travel_mode": mode, **where}
    )


def test_the_zone_drawn_at_submission_is_the_one_the_approval_sends() -> None:
    prepared = PreparedZones()
    inputs = _inputs(timedelta(minutes=30))
    assert prepare_zone(prepared, inputs, POLICY, NOW)
    # Approved 40 minutes later: the child could have gone 93 km by car, under the 160 km
    # floor, so the zone is the same and is found.
    later = NOW + timedelta(minutes=40)
    location = TrustedLocation(point=inputs.point, at=inputs.at)
    pieces = pieces_at([location], "vehicle", POLICY, later)
    assert [p.polygon for p in pieces] in prepared
    drawn = prepared.get([p.polygon for p in pieces])
    assert drawn is not None
    assert area_of(pieces, "Fès", POLICY, drawn) == area_of(pieces, "Fès", POLICY)
    assert not prepare_zone(prepared, inputs, POLICY, later)  # already drawn: not again
    assert len(prepared) == 1


def test_a_zone_past_the_floor_is_not_drawn() -> None:
    # Last seen three hours ago by car: 240 km and growing by the minute, so no approval
    # would send the zone of this instant.
    prepared = PreparedZones()
    assert not prepare_zone(prepared, _inputs(timedelta(hours=3)), POLICY, NOW)
    assert len(prepared) == 0
    # On foot, three hours are 15 km: still the floor.
    assert prepare_zone(prepared, _inputs(timedelta(hours=3), "foot"), POLICY, NOW)


def test_a_heading_is_drawn_as_the_approval_would() -> None:
    prepared = PreparedZones()
    inputs = _inputs(timedelta(minutes=10), heading_deg=45.0)
    assert prepare_zone(prepared, inputs, POLICY, NOW)
    location = TrustedLocation(point=FES, at=inputs.at, heading_deg=45.0)
    pieces = pieces_at([location], "vehicle", POLICY, NOW + timedelta(minutes=5))
    assert [p.polygon for p in pieces] in prepared


def test_nothing_is_drawn_without_a_territory() -> None:
    prepared = PreparedZones()
    assert not prepare_zone(prepared, _inputs(timedelta(minutes=5)), ZonePolicy(), NOW)
    assert len(prepared) == 0


def _zone(lon: float) -> tuple[list[shapely.Polygon], ClippedZone]:
    pieces = [disk_piece(Point(lat=34.0, lon=lon), 20.0)]
    return [p.polygon for p in pieces], clipped_zone(pieces, POLICY)


def test_the_least_recently_used_zone_goes_first() -> None:
    prepared = PreparedZones(capacity=2)
    (a, zone_a), (b, zone_b), (c, zone_c) = _zone(-5.0), _zone(-6.0), _zone(-7.0)
    prepared.put(a, zone_a)
    prepared.put(b, zone_b)
    assert prepared.get(a) is zone_a  # used: b is now the oldest
    prepared.put(c, zone_c)
    assert prepared.get(b) is None
    assert prepared.get(a) is zone_a and prepared.get(c) is zone_c
    sent = footprint(Point(lat=34.0, lon=-5.0), 20.0, TERRITORY, 100)
    assert zone_a.parts == sent.parts and zone_a.vertex_count == sent.vertex_count


def test_a_cache_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PreparedZones(capacity=0)


async def test_an_approved_report_gets_the_zone_drawn_while_it_awaited_review(
    stack: Stack,
) -> None:
    async with stack.client() as anonymous:

        async def counts() -> tuple[float, float]:
            text = (await anonymous.get("/metrics")).text
            return (
                sample_value(text, "tifli_zones_prepared_total"),
                sample_value(text, "tifli_prepared_zones_used_total"),
            )

        drawn, used = await counts()
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            created = await police.post("/v1/reports", json=report_body())
            assert created.status_code == 201, created.text
            await eventually(counts, lambda c: c[0] == drawn + 1)
            approved = await reviewer.post(
                f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA
            )
            assert approved.status_code == 200, approved.text
        async with stack.client("reader") as reader:

            async def issued() -> httpx.Response:
                return await reader.get(f"/v1/alerts/{approved.json()['alert_id']}")

            await eventually(issued, lambda r: r.status_code == 200)
        assert await counts() == (drawn + 1, used + 1)


def test_the_engine_keeps_as_many_as_set_or_draws_none_in_advance() -> None:
    assert engine_config(Settings(zone_prepared_max=0)).prepared is None
    kept = engine_config(Settings(zone_prepared_max=1)).prepared
    assert kept is not None
    a, zone_a = _zone(-5.0)
    b, zone_b = _zone(-6.0)
    kept.put(a, zone_a)
    kept.put(b, zone_b)
    assert a not in kept and b in kept


async def test_a_zone_that_cannot_be_drawn_in_advance_holds_nothing_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The report's own events (its approval) queue behind this one: a fault here must not
    # send it round the retries to the dead-letter topic.
    def broken(*_: object) -> bool:
        raise RuntimeError("near (-5.0003 34.0331)")

    monkeypatch.setattr(service_module, "prepare_zone", broken)
    config = engine_config(Settings())
    submitted = ReportSubmittedData(
        report_id="r-1", message_status="Actual", zone=_inputs(timedelta(minutes=5))
    )
    with caplog.at_level(logging.WARNING):
        prepare_for_review(config, submitted, NOW)
    [record] = [r for r in caplog.records if r.getMessage() == "zone not drawn in advance"]
    assert record.__dict__["error"] == "RuntimeError" and "34.03" not in caplog.text
    assert config.prepared is not None and len(config.prepared) == 0
