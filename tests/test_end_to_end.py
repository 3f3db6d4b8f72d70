"""The whole pipeline in the embedded mode, over real HTTP on loopback: report → approval →
signed alert at a partner's endpoint → resolution → Cancel."""

from __future__ import annotations

import io
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.logging import configure_logging
from tests.flows import an_approved_case, full_case_flow, verify_both_signatures
from tests.waiting import eventually


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The project's own logging set-up, at its most verbose, writing to a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    configure_logging("DEBUG", as_json=True, stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


async def test_report_to_signed_alert_to_cancel(stack: Stack, log_output: io.StringIO) -> None:
    await full_case_flow(stack)

    # No personal data in the log output of the whole run.
    output = log_output.getvalue()
    assert output.count("\n") > 10, "the run logged little: the check below would prove little"
    for name in ("Amina", "Benali", "Fatima"):
        assert name not in output


async def test_retried_delivery_keeps_its_webhook_id(stack: Stack) -> None:
    async with partner_endpoint(script=[500, 500, 200]) as partner:
        registered = await stack.register_partner(partner)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            alert_id = approved.json()["alert_id"]
        received = await partner.wait_for(3)
        assert len({r.headers["webhook-id"] for r in received}) == 1
        assert len({r.body for r in received}) == 1  # byte-identical retries
        for r in received:
            verify_both_signatures(str(registered["secret"]), r)

        async with stack.client("admin") as admin:

            async def delivery() -> dict[str, Any]:
                listing = (await admin.get("/v1/deliveries", params={"alert_id": alert_id})).json()
                [only] = listing["items"]
                return (await admin.get(f"/v1/deliveries/{only['id']}")).json()  # type: ignore[no-any-return]

            # The outcome is recorded just after the partner's 200 goes out.
            detail = await eventually(delivery, lambda d: d["status"] == "delivered")
        assert detail["status"] == "delivered"
        assert detail["webhook_id"] == received[0].headers["webhook-id"]
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 200]
        assert detail["attempts"] == 3


async def test_a_cap_document_fetched_at_debug_leaves_no_personal_data_in_the_log(
    stack: Stack, log_output: io.StringIO
) -> None:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        alert_id = approved.json()["alert_id"]
    async with stack.client("reader") as reader:
        url = f"/v1/alerts/{alert_id}/cap"
        cap = await eventually(lambda: reader.get(url), lambda r: r.status_code == 200)
    assert "Amina" in cap.text  # the signer had the child's name in hand
    output = log_output.getvalue()
    assert "debug" in output  # the project's own DEBUG lines are there
    assert "Amina" not in output and "<alert" not in output


async def test_each_payloads_cap_url_serves_that_version(stack: Stack) -> None:
    """Fetched after the alert moved on, the Alert's cap_url still serves the Alert: the JSON
    and the CAP a partner holds describe one message."""
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            report, _ = await an_approved_case(police, reviewer)
            at = datetime.now(UTC).isoformat()
            sighting = {"place_name": "Rabat", "at": at, "trusted": True}
            assert (await police.post(f"{report}/sightings", json=sighting)).status_code == 201
            first, update = [json.loads(r.body) for r in await partner.wait_for(2)]
    assert update["alert"]["msg_type"] == "Update"
    async with stack.client("reader") as reader:
        for sent in (first, update):
            url = urlsplit(sent["cap_url"])  # on this test's port, not the configured one
            cap = ET.fromstring((await reader.get(f"{url.path}?{url.query}")).content)
            identifier = cap.find("{urn:oasis:names:tc:emergency:cap:1.2}identifier")
            assert identifier is not None and identifier.text == sent["alert"]["identifier"]
