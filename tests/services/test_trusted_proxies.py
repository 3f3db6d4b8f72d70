"""Which client address the API sees: the TCP peer's, unless a proxy named in the settings
forwards another (the failed-authentication limit counts per address)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import uvicorn

from services.cli.run import server_config
from services.testbed.loopback import free_port
from shared.settings import Settings
from tests.waiting import eventually


async def _client_seen(settings: Settings) -> str:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = scope["client"][0].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    port = free_port()
    server = uvicorn.Server(server_config(app, settings, port))
    serving = asyncio.create_task(server.serve())
    try:

        async def started() -> bool:
            return server.started or serving.done()

        await eventually(started, bool)
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.7"}
            )
        return answer.text
    finally:
        server.should_exit = True
        await serving


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [
        ("", "127.0.0.1"),  # a local process cannot pass for another client
        ("127.0.0.1", "203.0.113.7"),  # the proxy on this host is believed
    ],
)
async def test_only_a_named_proxy_says_who_the_client_is(trusted: str, seen: str) -> None:
    settings = Settings(host="127.0.0.1", trusted_proxies=trusted)
    assert await _client_seen(settings) == seen
