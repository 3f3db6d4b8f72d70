"""A real HTTP partner endpoint on 127.0.0.1 for tests and benchmarks: answers Meta's
handshake, records every POST (raw body and headers), and answers with a scripted sequence of
status codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from services.testbed.loopback import bound_socket, serve


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class PartnerEndpoint:
    verify_token: str = "partner-verify-token"
    script: list[int] = field(default_factory=list)  # statuses to answer, then 200s
    failing_with: int | None = None  # while set, every POST gets this status (an outage)
    delay_s: float = 0.0  # answer each POST this much later (a slow partner)
    retry_after: str | None = None  # sent as ``Retry-After`` with every answer but a 2xx
    received: list[Received] = field(default_factory=list)
    held: list[Received] = field(default_factory=list)  # POSTs waiting inside ``holding()``
    handshakes: int = 0
    # While set, a handshake is answered only once the event is set (a slow partner server).
    handshake_gate: asyncio.Event | None = None
    url: str = ""
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: _RestartableServer | None = None
    _release: asyncio.Event | None = None

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        """POSTs that arrive while inside get no answer until it ends: the sender is caught
        mid-request (e.g. to kill it there). They are in ``held`` as they arrive, and not in
        ``received``: the partner never answered them."""
        self._release = asyncio.Event()
        try:
            yield
        finally:
            self._release.set()
            self._release = None

    @asynccontextmanager
    async def offline(self) -> AsyncIterator[None]:
        """No server on the partner's port while inside: connections are refused. The same
        endpoint answers again on the same port afterwards."""
        assert self._server is not None
        await self._server.stop()
        try:
            yield
        finally:
            await self._server.start()

    async def _webhook(self, request: Request) -> Response:
        if request.method == "GET":
            self.handshakes += 1
            if self.handshake_gate is not None:
                await self.handshake_gate.wait()
            params = request.query_params
            if (
                params.get("hub.mode") == "subscribe"
                and params.get("hub.verify_token") == self.verify_token
            ):
                return PlainTextResponse(params.get("hub.challenge", ""))
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if self._release is not None:
            release = self._release
            async with self._arrived:
                self.held.append(Received(_lower(request.headers), body))
                self._arrived.notify_all()
            await release.wait()
            return Response(status_code=200)  # its sender is gone by now: nobody reads this
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # the partner is slow: that is the behaviour
        status = self.script.pop(0) if self.script else (self.failing_with or 200)
        async with self._arrived:
            self.received.append(Received(_lower(request.headers), body))
            self._arrived.notify_all()
        headers = (
            {} if self.retry_after is None or status < 300 else {"retry-after": self.retry_after}
        )
        return Response(status_code=status, headers=headers)

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Every POST answered so far, once there are at least ``count``."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return list(self.received)

    async def wait_held(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Every POST held so far, once there are at least ``count``."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.held) >= count)
        return list(self.held)


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class _RestartableServer:
    """``serve`` that can be stopped and started again on the same port."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._port = 0
        self._running: AbstractAsyncContextManager[str] | None = None

    async def start(self) -> str:
        self._running = serve(self._app, bound_socket(self._port))
        base = await self._running.__aenter__()
        self._port = int(base.rsplit(":", 1)[1])
        return base

    async def stop(self) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            await running.__aexit__(None, None, None)


@asynccontextmanager
async def partner_endpoint(script: list[int] | None = None) -> AsyncIterator[PartnerEndpoint]:
    """A partner endpoint on a free loopback port while inside; its URL is ``endpoint.url``."""
    endpoint = PartnerEndpoint(script=list(script or []))
    app = Starlette(routes=[Route("/webhook", endpoint._webhook, methods=["GET", "POST"])])
    endpoint._server = _RestartableServer(app)
    base = await endpoint._server.start()
    try:
        endpoint.url = f"{base}/webhook"
        yield endpoint
    finally:
        await endpoint._server.stop()
