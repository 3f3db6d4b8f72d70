"""A valid report of a fictional child, and the review criteria that approve it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from intake_api.schemas import REPORT_EXAMPLE


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid report body: the API's documented example as a real case (not an Exercise),
    last seen half an hour ago, with top-level fields replaced by ``overrides``. The
    guardian's consent is recorded, and without a unit the personas' national keys make the
    case national (see access.py)."""
    body = copy.deepcopy(REPORT_EXAMPLE)
    del body["message_status"]
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    # A neighbourhood, finer than a place a partner's text would name: tests check it reaches
    # no log and no partner payload.
    body["last_seen"]["place_name"] = "Casablanca, Maarif"
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
