"""SSRF guard (brief §5): a webhook may only reach public addresses, checked at connect time.

Checking the URL when a partner registers is not enough: DNS can answer differently later
(rebinding). So the check sits in the HTTP client's network backend: the name is resolved
there, every address is checked, and the connection goes to an address that passed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address reach that address: judge it instead.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip.teredo is not None:
            ip = ip.teredo[1]
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


class BlockedAddress(httpcore.ConnectError):
    pass


class GuardedBackend(AsyncNetworkBackend):
    def __init__(self, inner: AsyncNetworkBackend, *, allow_private: bool) -> None:
        self._inner = inner
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            # As httpcore's own backends do: a name that does not resolve is a failed
            # connection (the partner's problem, reported as such), not a crash.
            raise httpcore.ConnectError(f"{host} does not resolve") from exc
        addresses = [str(info[4][0]) for info in infos]
        allowed = [a for a in addresses if self._allow_private or is_public(a)]
        if not allowed:
            raise BlockedAddress(f"{host} resolves only to non-public addresses")
        return await self._inner.connect_tcp(
            allowed[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        raise BlockedAddress("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(
    *, timeout_s: float, allow_private: bool, max_connections: int = 200
) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=100)
    )
    # httpx exposes no option for httpcore's network backend; the pool's attribute is the
    # documented httpcore hook, reached through httpx's transport.
    transport._pool._network_backend = GuardedBackend(
        httpcore.AnyIOBackend(), allow_private=allow_private
    )
    return httpx.AsyncClient(
        transport=transport, timeout=timeout_s, follow_redirects=False, trust_env=False
    )


def check_url(url: str, *, allow_private: bool) -> str | None:
    """A reason the URL is not acceptable as a webhook target, or ``None``."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "not a valid URL"
    if parsed.scheme != "https" and not (allow_private and parsed.scheme == "http"):
        return "webhook URLs must use https"
    if not parsed.host:
        return "webhook URL has no host"
    if parsed.userinfo:
        return "webhook URLs must not carry credentials"
    return None
