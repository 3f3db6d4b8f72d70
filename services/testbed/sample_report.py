"""A valid report of a fictional child, and the review criteria that approve it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid report body (a national case, the guardian's consent recorded), with top-level fields
    replaced by ``overrides``."""
    body: dict[str, Any] = {
        "child": {
            "given_name": "Amina",
            "family_name": "Benali",
            "age": 9,
            "sex": "female",
            "description": "Short black hair, brown eyes, about 130 cm, scar above left eyebrow",
            "clothing": "Red jacket, blue jeans, white sneakers",
            "photo_urls": ["https://photos.example.org/amina.jpg"],
        },
        "last_seen": {
            "location": {"lat": 33.5731, "lon": -7.5898},
            "place_name": "Casablanca, Maarif",
            "at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        },
        "circumstances": "Left school at 16:30 and never arrived home; a witness saw a grey van.",
        "suspected_vehicle": {"description": "Grey Renault Kangoo van", "plate": "12345-A-6"},
        "travel_mode": "vehicle",
        "guardian": {
            "name": "Fatima Benali",
            "phone": "+212 600 000 000",
            "consent_to_publication": True,
        },
        # No unit: the personas are national keys, so the case is national (see access.py).
        "submitted_by": {"officer": "Inspector Idrissi"},
    }
    body.update(overrides)
    return body


DELETE = object()  # for report_body_with: leave the field out


def report_body_with(path: str, value: Any) -> dict[str, Any]:
    """A valid report body with one field (a dotted path) set to ``value``, or removed."""
    body = report_body()
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[leaf]
    else:
        target[leaf] = value
    return body


CRITERIA = {
    "criteria": {
        "child_under_18": True,
        "involuntary_or_at_risk": True,
        "enough_descriptive_information": True,
        "guardian_consent_recorded": True,
        "publication_adds_no_risk": True,
    }
}
