"""Embedded mode: the in-process bus forgets what it held when the process stops; the outbox
and the consumers' processed-event records do not, so a restart sends it again."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import delete

from dispatcher.models import Delivery, DeliveryAttempt
from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import embedded_settings, start_stack
from shared.inbox import ProcessedEvent
from tests.metric_samples import sample_value
from tests.waiting import eventually


async def test_events_the_bus_held_at_a_stop_are_sent_after_restart(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    async with partner_endpoint() as partner:
        stack, server = await start_stack(settings)
        try:
            await stack.register_partner(partner)
            async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
                report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
                await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            [first] = await partner.wait_for(1)
            await stack.bus.wait_idle()
        finally:
            await server.__aexit__(None, None, None)

        # As if the process had died with the alert event still in the bus's memory: the
        # relay had marked it sent, the dispatcher never committed its work.
        stack, server = await start_stack(settings)
        await server.__aexit__(None, None, None)  # migrations and keys only
        async with stack.embedded.sessions() as session, session.begin():
            await session.execute(delete(DeliveryAttempt))
            await session.execute(delete(Delivery))
            await session.execute(
                delete(ProcessedEvent).where(ProcessedEvent.consumer_group == "dispatcher")
            )

        stack, server = await start_stack(settings)
        try:
            _, again = await partner.wait_for(2)
        finally:
            await server.__aexit__(None, None, None)
    assert again.headers["webhook-id"] == first.headers["webhook-id"]  # the same message
    assert again.body == first.body


async def test_the_embedded_relay_says_it_is_the_active_one(tmp_path: Path) -> None:
    """``tifli_relay_active`` is what an operator alerts on when no relay publishes: the
    embedded mode's relay says 1 like a production leader does, and 0 once stopped."""
    stack, server = await start_stack(embedded_settings(tmp_path))
    try:
        async with stack.client() as anonymous:

            async def active() -> float:
                metrics = (await anonymous.get("/metrics")).text
                return sample_value(metrics, "tifli_relay_active")

            assert await eventually(active, lambda value: value == 1.0) == 1.0
    finally:
        await server.__aexit__(None, None, None)
    assert REGISTRY.get_sample_value("tifli_relay_active") == 0
