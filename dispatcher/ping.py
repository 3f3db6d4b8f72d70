"""A partner's test event (``type: "ping"``): signed and sent exactly like a real delivery,
carrying no alert and no child data, so an operator can check an endpoint end to end."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

import httpx
from pydantic import TypeAdapter

from dispatcher.models import Partner
from dispatcher.partner_secrets import signing_secrets
from dispatcher.schemas import PingOut
from dispatcher.sender import post_webhook
from dispatcher.signing import signature_headers
from shared.sealing import Sealer

_AS_JSON = TypeAdapter(datetime)


def ping_body(webhook_id: str, sent_at: datetime) -> bytes:
    """The test event's body: the same envelope as an alert's (``type``, ``id``), nothing else."""
    # The time as every other payload writes it (UTC, "Z"): one parser for all of them.
    moment = _AS_JSON.dump_python(sent_at, mode="json")
    return json.dumps(
        {"type": "ping", "id": webhook_id, "sent_at": moment}, separators=(",", ":")
    ).encode()


async def send_ping(
    client: httpx.AsyncClient, partner: Partner, now: datetime, sealer: Sealer, *, within_s: float
) -> PingOut:
    """POST one signed test event to ``partner`` and report its answer. ``client`` must be
    the address-guarded client: a test event obeys the same SSRF rule as an alert."""
    # A fresh id per test: each one is a new message, never a retry of an earlier test.
    webhook_id = "msg_" + uuid.uuid4().hex
    body = ping_body(webhook_id, now)
    headers = signature_headers(
        signing_secrets(partner, now, sealer), webhook_id, int(time.time()), body
    )
    result = await post_webhook(client, partner.url, body, headers, within_s=within_s)
    return PingOut(
        partner_id=partner.id,
        webhook_id=webhook_id,
        delivered=result.status is not None and 200 <= result.status < 300,
        status_code=result.status,
        latency_ms=round(result.latency_ms, 1),
        error=result.error,
    )
