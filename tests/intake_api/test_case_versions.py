"""Approval names the version it reviewed (``If-Match``): a case changed since is a 412, and
nothing goes out; the version itself, pure (``intake_api/case_versions.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake_api.case_versions import case_version, entity_tag, matches
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack

NOW = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)


def test_a_version_moves_with_every_change_and_names_one_case() -> None:
    version = case_version("r-1", NOW)
    assert version == case_version("r-1", NOW)
    assert version != case_version("r-1", NOW + timedelta(microseconds=1))
    assert version != case_version("r-2", NOW)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"{v}"', True),
        ("{v}", True),  # the quotes forgotten: the same tag meant
        ('"other", "{v}"', True),
        ("*", True),
        ('W/"{v}"', False),  # If-Match compares strongly: a weak tag never matches
        ('"other"', False),
        ('"{v}x"', False),
    ],
)
def test_if_match_names_the_version(header: str, expected: bool) -> None:
    version = case_version("r-1", NOW)
    assert matches(header.format(v=version), version) is expected


async def test_an_approval_of_a_case_changed_since_it_was_read_is_refused(stack: Stack) -> None:
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        read = await reviewer.get(f"/v1/reports/{report_id}")
        reviewed = read.headers["etag"]
        assert reviewed == entity_tag(read.json()["version"])
        # The submitter rewrites the description between the review and the approval.
        changed = {"child": {"description": "Changed after review: another child entirely"}}
        corrected = await police.patch(f"/v1/reports/{report_id}", json=changed)
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["version"] != read.json()["version"]
        path = f"/v1/reports/{report_id}/approve"
        refused = await reviewer.post(path, json=CRITERIA, headers={"If-Match": reviewed})
        assert refused.status_code == 412, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert corrected.json()["version"] in refused.json()["detail"]
        assert (await reviewer.get(f"/v1/reports/{report_id}")).json()["status"] == "submitted"
        # Read again, and approved as read.
        again = (await reviewer.get(f"/v1/reports/{report_id}")).headers["etag"]
        approved = await reviewer.post(path, json=CRITERIA, headers={"If-Match": again})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        # The answer is the case's new version: approving moved it.
        assert approved.json()["version"] not in again


async def test_a_correction_of_a_case_changed_since_it_was_read_is_refused(stack: Stack) -> None:
    """A correction that names the version it read (``If-Match``) must not write over a change
    it never saw: the header was ignored, and the older view replaced the newer one."""
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        path = f"/v1/reports/{report_id}"
        read = (await police.get(path)).headers["etag"]
        # A reviewer corrects the clothing between the officer's read and their correction.
        theirs = {"child": {"clothing": "Green coat, black boots"}}
        assert (await reviewer.patch(path, json=theirs)).status_code == 200
        mine = {"child": {"clothing": "Red coat"}}
        refused = await police.patch(path, json=mine, headers={"If-Match": read})
        assert refused.status_code == 412, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        kept = await police.get(path)
        assert kept.json()["report"]["child"]["clothing"] == "Green coat, black boots"
        # Read again, and corrected as read.
        again = await police.patch(path, json=mine, headers={"If-Match": kept.headers["etag"]})
        assert again.status_code == 200, again.text
        assert again.json()["report"]["child"]["clothing"] == "Red coat"
