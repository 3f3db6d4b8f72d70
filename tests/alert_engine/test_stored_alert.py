"""The alert's row keeps the case as typed models: what the engine stores comes back equal,
and rows written while the locations were flat JSON objects still load."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from alert_engine.locations import TrustedLocation
from alert_engine.models import Alert, ApprovedFacts
from alert_engine.service import case_state, locations_of
from shared.alert_contract import Point, PublicChild

AT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
CHILD = PublicChild(given_name="Amina", age=9, sex="female", description="Short black hair")
# The last-seen point, then a trusted sighting with a destination and its place's names.
LOCATIONS = [
    TrustedLocation(point=Point(lat=35.77, lon=-5.80), at=AT, place="Tanger"),
    TrustedLocation(
        point=Point(lat=34.02, lon=-6.84),
        at=AT + timedelta(hours=1),
        place="الرباط",
        destination=Point(lat=33.57, lon=-7.59),
        sighting_id="s1",
        place_names={"ar": "الرباط", "fr": "Rabat"},
    ),
]


@pytest.fixture
def database() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    Alert.metadata.create_all(engine, tables=[Alert.__table__])  # type: ignore[list-item]
    yield engine
    engine.dispose()


def _alert(**columns: object) -> Alert:
    return Alert(
        id="a1",
        report_id="r1",
        state="active",
        message_status="Actual",
        sequence=1,
        center_lat=35.77,
        center_lon=-5.80,
        center_at=AT,
        travel_mode="vehicle",
        radius_km=5.0,
        effective=AT,
        expires=AT + timedelta(hours=24),
        updated_at=AT,
        **columns,
    )


def test_what_the_engine_stores_loads_equal(database: Engine) -> None:
    facts = ApprovedFacts(
        child=CHILD,
        place="Tanger",
        suspected_vehicle="Grey van",
        companion=None,
        photo_urls=["https://photos.example/1.jpg"],
    )
    with Session(database) as session:
        session.add(_alert(facts=facts, locations=LOCATIONS))
        session.commit()
    with Session(database) as session:
        loaded = session.get_one(Alert, "a1")
        assert loaded.facts == facts
        assert loaded.locations == LOCATIONS


def test_rows_with_flat_locations_still_load(database: Engine) -> None:
    # The text the engine wrote before its locations were models, byte for byte.
    facts = (
        '{"child": {"given_name": "Amina", "age": 9, "sex": "female", "description": '
        '"Short black hair", "clothing": null}, "place": "Tanger", "suspected_vehicle": null, '
        '"companion": null, "photo_urls": []}'
    )
    locations = (
        '[{"lat": 35.77, "lon": -5.8, "at": "2026-11-29T15:00:00+00:00", "place": "Tanger", '
        '"heading_deg": null, "destination": null, "sighting_id": null, "place_names": null}, '
        '{"lat": 34.02, "lon": -6.84, "at": "2026-11-29T16:00:00+00:00", "place": "الرباط", '
        '"heading_deg": null, "destination": {"lat": 33.57, "lon": -7.59}, '
        '"sighting_id": "s1", "place_names": {"ar": "الرباط", "fr": "Rabat"}}]'
    )
    with Session(database) as session:
        session.add(_alert(facts=ApprovedFacts.model_validate_json(facts), locations=None))
        session.commit()
        session.execute(
            text("UPDATE alerts SET facts = :f, locations = :l"), {"f": facts, "l": locations}
        )
        session.commit()
    with Session(database) as session:
        alert = session.get_one(Alert, "a1")
        assert alert.facts.child == CHILD
        assert locations_of(alert) == LOCATIONS
        assert dict(case_state(alert).facts.place_names) == {"ar": "الرباط", "fr": "Rabat"}


def test_an_alert_issued_before_locations_were_kept_grows_from_its_centre(
    database: Engine,
) -> None:
    facts = ApprovedFacts(
        child=CHILD, place="Tanger", suspected_vehicle=None, companion=None, photo_urls=[]
    )
    with Session(database) as session:
        session.add(_alert(facts=facts, locations=None))
        session.commit()
    with Session(database) as session:
        assert locations_of(session.get_one(Alert, "a1")) == [
            TrustedLocation(point=Point(lat=35.77, lon=-5.80), at=AT, place="Tanger")
        ]
