"""One connection pool per partner origin, reused for its requests, let go before a partner
would close it, and closed with the client, against real servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from dispatcher.address_guard import guarded_client
from dispatcher.origin_pools import PoolPerOrigin


@asynccontextmanager
async def _server() -> AsyncIterator[tuple[str, list[int], asyncio.Event]]:
    """An HTTP/1.1 server answering 204 on keep-alive connections: its URL, how many
    requests each connection carried (when the client closed it), and an event set then."""
    carried: list[int] = []
    closed = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests = 0
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")  # a request without a body
                requests += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed the connection
            carried.append(requests)
            closed.set()
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/hook", carried, closed


async def test_each_origin_has_its_own_pool_reused_and_closed_with_the_client() -> None:
    made: list[httpx.AsyncHTTPTransport] = []

    def new_pool() -> httpx.AsyncHTTPTransport:
        made.append(httpx.AsyncHTTPTransport())
        return made[-1]

    async with (
        _server() as (first, carried_1, closed_1),
        _server() as (second, carried_2, closed_2),
    ):
        client = httpx.AsyncClient(transport=PoolPerOrigin(new_pool))
        for _ in range(3):
            for url in (first, second):
                assert (await client.get(url)).status_code == 204
        assert len(made) == 2  # one pool per origin, not one per request
        assert carried_1 == carried_2 == []  # connections kept alive between requests
        await client.aclose()
        # Closing the client closed each pool: one connection each, after its 3 requests.
        async with asyncio.timeout(5):
            await closed_1.wait()
            await closed_2.wait()
        assert carried_1 == carried_2 == [3]


async def test_a_connection_idle_nearly_5_s_is_not_reused() -> None:
    # Partners' servers often close idle connections after 5 s: a POST sent on one at that
    # moment fails. The delivery client lets go of it first: 4.5 s idle, a new connection.
    async with (
        _server() as (url, carried, closed),
        guarded_client(timeout_s=5, allow_private=True) as client,
    ):
        assert (await client.get(url)).status_code == 204
        await asyncio.sleep(4.5)  # the idle time under test
        assert (await client.get(url)).status_code == 204
        async with asyncio.timeout(5):
            await closed.wait()
        assert carried == [1]  # the first connection carried one request, then was let go
