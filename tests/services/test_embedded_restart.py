"""Embedded mode: the in-process bus forgets what it held when the process stops; the outbox
and the consumers' processed-event records do not, so a restart sends it again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete

from dispatcher.models import Delivery, DeliveryAttempt
from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import embedded_settings, start_stack
from shared.inbox import ProcessedEvent


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
