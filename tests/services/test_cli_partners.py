"""Partner test events (``POST /v1/partners/{id}/test``, ``tifli partners test``) and the
``tifli partners`` commands, against a real partner endpoint on loopback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from services.testbed.partner import partner_endpoint
from services.testbed.stack import Stack
from shared.problems import PROBLEM_JSON
from shared.sealing import Sealer
from tests.flows import verify_both_signatures
from tests.services.cli_runner import tifli


async def test_a_test_event_is_signed_like_an_alert_and_carries_none(stack: Stack) -> None:
    async with partner_endpoint() as partner, stack.client("admin") as admin:
        registered = await stack.register_partner(partner)
        answer = await admin.post(f"/v1/partners/{registered['id']}/test")
        assert answer.status_code == 200, answer.text
        result = answer.json()
        [received] = await partner.wait_for(1)
    assert result["delivered"] is True and result["status_code"] == 200
    assert result["error"] is None and result["latency_ms"] >= 0
    verify_both_signatures(str(registered["secret"]), received)
    body = json.loads(received.body)
    assert body == {"type": "ping", "id": result["webhook_id"], "sent_at": body["sent_at"]}
    # Written as the alerts' times are: UTC, with "Z".
    assert datetime.fromisoformat(body["sent_at"]).utcoffset() == timedelta(0)
    assert body["sent_at"].endswith("Z")
    assert received.headers["webhook-id"] == result["webhook_id"]


async def test_a_failing_partner_is_reported_not_raised(stack: Stack) -> None:
    async with partner_endpoint() as partner, stack.client("admin") as admin:
        registered = await stack.register_partner(partner)
        partner.failing_with = 503
        answer = await admin.post(f"/v1/partners/{registered['id']}/test")
    assert answer.status_code == 200, answer.text
    assert answer.json()["delivered"] is False
    assert answer.json()["status_code"] == 503
    assert answer.json()["error"] == "HTTP 503"


async def test_test_events_are_refused_when_they_must_be(stack: Stack) -> None:
    async with partner_endpoint() as partner, stack.client("admin") as admin:
        registered = await stack.register_partner(partner)
        missing = await admin.post("/v1/partners/no-such-partner/test")
        disabled = await admin.delete(f"/v1/partners/{registered['id']}")
        assert disabled.status_code == 200
        after = await admin.post(f"/v1/partners/{registered['id']}/test")
        async with stack.client("reader") as reader:
            unauthorised = await reader.post(f"/v1/partners/{registered['id']}/test")
        assert partner.received == []  # nothing reached the disabled partner
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM_JSON)
    assert after.status_code == 409 and "disabled" in after.json()["detail"]
    assert unauthorised.status_code == 403


async def test_partners_from_the_command_line(stack: Stack) -> None:
    assert stack.settings is not None
    url = stack.settings.database_url
    async with partner_endpoint() as partner:
        registered = await stack.register_partner(partner)
        partner_id = str(registered["id"])

        listing = await tifli(url, "partners", "list")
        assert listing.returncode == 0, listing.stderr
        assert f"tifli: database {url}" in listing.stderr  # which database, said every time
        header, row = listing.stdout.splitlines()
        assert header.split() == ["ID", "NAME", "STATUS", "VERIFIED", "URL"]
        assert row.split()[0] == partner_id and "active" in row.split()

        shown = await tifli(url, "partners", "show", partner_id)
        assert shown.returncode == 0, shown.stderr
        assert partner.url in shown.stdout and "status" in shown.stdout
        assert str(registered["secret"]) not in shown.stdout  # never shown again

        verified = await tifli(url, "partners", "verify", partner_id)
        assert verified.returncode == 0, verified.stderr
        assert f"partner {partner_id} is active" in verified.stdout
        assert partner.handshakes == 2

        tested = await tifli(url, "partners", "test", partner_id)
        assert tested.returncode == 0, tested.stderr
        assert "HTTP 200 in " in tested.stdout
        [received] = await partner.wait_for(1)
        verify_both_signatures(str(registered["secret"]), received)
        assert json.loads(received.body)["type"] == "ping"

        partner.failing_with = 500
        failing = await tifli(url, "partners", "test", partner_id)
        assert failing.returncode == 1
        assert "HTTP 500 in " in failing.stdout and "not delivered" in failing.stderr
        partner.failing_with = None

        disabled = await tifli(url, "partners", "disable", partner_id)
        assert disabled.returncode == 0, disabled.stderr
        refused = await tifli(url, "partners", "test", partner_id)
        assert refused.returncode == 1 and "is disabled" in refused.stderr
        assert len(partner.received) == 2  # the ping and the failing one; none when disabled

        missing = await tifli(url, "partners", "show", "no-such-partner")
        assert missing.returncode == 1 and "No partner no-such-partner" in missing.stderr


async def test_a_data_key_that_opens_no_secret_is_said_in_one_line(stack: Stack) -> None:
    """The step of a rotation an operator missed: the command's key is not the one the
    partners' secrets are sealed with. It was a traceback."""
    assert stack.settings is not None
    async with partner_endpoint() as partner:
        registered = await stack.register_partner(partner)
        for action in ("test", "verify"):
            done = await tifli(
                stack.settings.database_url,
                "partners",
                action,
                str(registered["id"]),
                TIFLI_DATA_KEY=Sealer.new_key(),
            )
            assert done.returncode == 1, done.stderr
            lines = [line for line in done.stderr.splitlines() if "tifli: database" not in line]
            assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr
            assert "opens with none of the keys" in lines[0]
        assert partner.received == []  # nothing was sent unsigned
