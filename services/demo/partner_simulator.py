"""A partner platform for the drill: answers Meta's handshake, receives the webhooks and
checks each signature with the README's recipe the moment it arrives, as a partner must."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from services.demo.partner_recipe import verify_meta, verify_standard_webhooks


@dataclass(frozen=True)
class Received:
    event_type: str
    payload: dict[str, Any]
    webhook_id: str
    standard_signature_ok: bool
    meta_signature_ok: bool
    arrived_monotonic: float

    @property
    def verified(self) -> bool:
        return self.standard_signature_ok and self.meta_signature_ok


@dataclass
class PartnerSimulator:
    verify_token: str
    secret: str = ""  # given by Tifli at registration
    handshakes: int = 0
    received: list[Received] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/webhook", self._webhook, methods=["GET", "POST"])])

    async def _webhook(self, request: Request) -> Response:
        if request.method == "GET":
            params = request.query_params
            if params.get("hub.verify_token") != self.verify_token:
                return PlainTextResponse("unknown token", status_code=403)
            self.handshakes += 1
            return PlainTextResponse(params.get("hub.challenge", ""))
        body = await request.body()  # the raw bytes: signatures are checked before parsing
        headers = {k.lower(): v for k, v in request.headers.items()}
        payload = json.loads(body)
        received = Received(
            event_type=str(payload.get("type")),
            payload=payload,
            webhook_id=headers.get("webhook-id", ""),
            standard_signature_ok=verify_standard_webhooks(self.secret, headers, body),
            meta_signature_ok=verify_meta(self.secret, headers, body),
            arrived_monotonic=time.monotonic(),
        )
        async with self._arrived:
            self.received.append(received)
            self._arrived.notify_all()
        return Response(status_code=200 if received.verified else 401)

    async def wait_for(self, event_type: str, timeout_s: float = 60.0) -> Received:
        """The first webhook of ``event_type``, once it has arrived."""

        def first() -> Received | None:
            return next((r for r in self.received if r.event_type == event_type), None)

        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: first() is not None)
        found = first()
        assert found is not None
        return found
