"""A take-down goes to a busy partner before the alerts queued ahead of it: a slow partner
with a backlog of new alerts takes a found child's alert down at its next free slot, not
once the backlog has drained (a minute and more in a burst, with the child found)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.testbed.partner import partner_endpoint
from services.testbed.production import cap_signing_env
from services.testbed.stack import Stack, embedded_settings, start_stack
from tests.flows import an_approved_case
from tests.waiting import eventually


@pytest.fixture
async def one_at_a_time(tmp_path: Path) -> AsyncIterator[Stack]:
    """An embedded stack that sends each partner one POST at a time, and waits long enough
    for the answer to one the test holds."""
    pair = cap_signing_env()
    settings = embedded_settings(
        tmp_path,
        partner_concurrency=1,
        webhook_timeout_s=60.0,
        cap_signing_key=pair["TIFLI_CAP_SIGNING_KEY"],
        cap_signing_certificate=pair["TIFLI_CAP_SIGNING_CERTIFICATE"],
    )
    running, server = await start_stack(settings)
    try:
        yield running
    finally:
        await server.__aexit__(None, None, None)


async def test_a_take_down_overtakes_the_alerts_queued_for_a_busy_partner(
    one_at_a_time: Stack,
) -> None:
    stack = one_at_a_time
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            async with partner.holding():  # the partner busy with the first alert
                _, first = await an_approved_case(police, reviewer)
                await partner.wait_held(1)
                found, _ = await an_approved_case(police, reviewer)
                queued = [(await an_approved_case(police, reviewer))[1] for _ in range(3)]
                await eventually(
                    lambda: stack.deliveries(status="pending"), lambda items: len(items) == 4
                )
                # The child of the second case is found: its Alert, still queued, is
                # superseded by the Cancel, which waits for the partner's one slot.
                assert (await police.post(f"{found}/resolve", json={})).status_code == 200
                await eventually(
                    lambda: stack.deliveries(status="pending"),
                    lambda items: "alert.cancelled" in {d["event_type"] for d in items},
                )
            received = await partner.wait_for(4)
    sent = [json.loads(r.body) for r in received]
    assert sent[0]["type"] == "alert.cancelled"
    # The alerts queued before it follow (in the order the engine issued them).
    assert sorted(s["alert"]["alert_id"] for s in sent[1:]) == sorted(queued)
    assert first not in {s["alert"]["alert_id"] for s in sent}  # held: not in ``received``
