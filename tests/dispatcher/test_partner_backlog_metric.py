"""What waits for each partner shows in the dispatcher's metrics, by partner: the on-call
sees which partner falls behind (every other delivery metric is summed over partners), and
sees the count go back to 0 once that partner has caught up."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.testbed.partner import partner_endpoint
from services.testbed.stack import Stack
from tests.flows import an_approved_case
from tests.waiting import eventually


async def test_a_partner_failing_shows_its_backlog_and_then_none(stack: Stack) -> None:
    async with partner_endpoint() as failing, partner_endpoint() as healthy:
        failing_id = str((await stack.register_partner(failing))["id"])
        healthy_id = str((await stack.register_partner(healthy))["id"])
        failing.failing_with = 500
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            for _ in range(2):
                await an_approved_case(police, reviewer)
        await healthy.wait_for(2)
        await eventually(lambda: _waiting(failing_id), lambda count: count == 2)
        await eventually(lambda: _waiting(healthy_id), lambda count: count == 0)

        failing.failing_with = None  # back: its retries deliver both
        await failing.wait_for(len(failing.received) + 2)
        await eventually(lambda: _waiting(failing_id), lambda count: count == 0)


async def _waiting(partner_id: str) -> float | None:
    return REGISTRY.get_sample_value("tifli_partner_deliveries_waiting", {"partner": partner_id})
