"""Connection pools for partner deliveries: one per partner origin."""

from __future__ import annotations

from collections.abc import Callable

import httpx


class PoolPerOrigin(httpx.AsyncBaseTransport):
    """A connection pool per origin (scheme, host, port): one partner's connections only.

    httpcore looks at every connection of its pool for each request (whether it is idle,
    expired, closed by the peer: a system call per idle connection), so one pool for every
    partner costs each POST time in proportion to all partners' open connections."""

    def __init__(self, new_pool: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._new_pool = new_pool
        self._pools: dict[tuple[bytes, bytes, int | None], httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = self._new_pool()
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
