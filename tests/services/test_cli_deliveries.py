"""``tifli deliveries list|replay``: a Cancel that died while its partner was down is found
and sent again, with the same ``webhook-id``, once the partner is back."""

from __future__ import annotations

import json

from services.testbed.partner import partner_endpoint
from services.testbed.stack import Stack
from tests.flows import a_dead_cancel
from tests.services.cli_runner import tifli
from tests.waiting import eventually


async def test_a_dead_cancel_is_listed_and_replayed(short_cancel_stack: Stack) -> None:
    stack = short_cancel_stack
    assert stack.settings is not None
    url = stack.settings.database_url
    async with partner_endpoint() as partner:
        dead = await a_dead_cancel(stack, partner)
        assert dead["event_type"] == "alert.cancelled" and dead["attempts"] >= 1
        # It was tried and refused: the same webhook-id will come again.
        assert dead["webhook_id"] in {r.headers["webhook-id"] for r in partner.received}

        listing = await tifli(url, "deliveries", "list", "--status", "dead", "--since", "1h")
        assert listing.returncode == 0, listing.stderr
        header, *rows = listing.stdout.splitlines()
        assert header.split()[:4] == ["ID", "CREATED", "STATUS", "EVENT"]
        assert [row.split()[0] for row in rows] == [dead["id"]]
        # The partner's last answer (500) is shown; the error column says either that answer
        # or that the deadline passed, whichever came last.
        assert "alert.cancelled" in rows[0] and "500" in rows[0].split()
        everything = await tifli(url, "deliveries", "list")
        assert len(everything.stdout.splitlines()) - 1 == len(await stack.deliveries())

        partner.failing_with = None  # the partner is back
        replayed = await tifli(url, "deliveries", "replay", "--all-dead", "--since", "1h")
        assert replayed.returncode == 0, replayed.stderr
        assert f"{dead['id']}: queued again" in replayed.stdout
        # The dispatcher (in this process) picks it up on its next pass.
        await eventually(
            lambda: stack.deliveries(status="delivered"),
            lambda items: [d["id"] for d in items] == [dead["id"]],
            timeout=30,
        )
        last = partner.received[-1]
        assert last.headers["webhook-id"] == dead["webhook_id"]  # the partner deduplicates
        assert json.loads(last.body)["type"] == "alert.cancelled"

        nothing = await tifli(url, "deliveries", "replay", "--all-dead")
        assert nothing.returncode == 0 and "no dead deliveries" in nothing.stdout
        missing = await tifli(url, "deliveries", "replay", "no-such-delivery")
        assert missing.returncode == 1 and "No delivery no-such-delivery" in missing.stderr
        misused = await tifli(url, "deliveries", "replay", dead["id"], "--since", "1h")
        assert misused.returncode == 2 and "--since goes with --all-dead" in misused.stderr
