"""POST /v1/deliveries/{id}/replay over real HTTP: a dead Cancel is queued again, committed
before the answer, and delivered with the same ``webhook-id`` once the partner is back."""

from __future__ import annotations

from services.testbed.partner import partner_endpoint
from services.testbed.stack import Stack
from tests.flows import a_dead_cancel
from tests.waiting import eventually


async def test_a_dead_cancel_is_replayed_through_the_api(short_cancel_stack: Stack) -> None:
    stack = short_cancel_stack
    async with partner_endpoint() as partner:
        dead = await a_dead_cancel(stack, partner)

        partner.failing_with = None  # the partner is back
        async with stack.client("admin") as admin:
            replayed = await admin.post(f"/v1/deliveries/{dead['id']}/replay")
            assert replayed.status_code == 200, replayed.text
            assert replayed.json()["status"] == "pending"
            # Committed before the answer: a read right after sees the queued delivery.
            read = (await admin.get(f"/v1/deliveries/{dead['id']}")).json()
            assert read["status"] in {"pending", "sending", "delivered"}
            await eventually(
                lambda: admin.get(f"/v1/deliveries/{dead['id']}"),
                lambda r: r.json()["status"] == "delivered",
            )
            again = await admin.post(f"/v1/deliveries/{dead['id']}/replay")
            missing = await admin.post("/v1/deliveries/no-such-delivery/replay")
        assert partner.received[-1].headers["webhook-id"] == dead["webhook_id"]
        # Delivered, and nothing newer replaces it: it may go again (a partner deduplicates).
        assert again.status_code == 200, again.text
        assert missing.status_code == 404
        assert missing.json()["detail"] == "No delivery no-such-delivery."
