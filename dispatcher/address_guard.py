"""SSRF guard: a webhook may only reach public addresses, checked at connect time.

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

from dispatcher.origin_pools import PoolPerOrigin

# What no webhook may reach, beyond what ``ipaddress`` calls non-global (whose tables vary
# with the Python version): the IANA special-purpose ranges that Python 3.11 misses, and the
# IPv6 forms whose traffic ends at an IPv4 address we cannot judge here.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT; also Alibaba Cloud's metadata, 100.100.100.200
        "192.0.0.0/24",  # IETF protocol assignments, anycast relays included
        "198.18.0.0/15",
        "240.0.0.0/4",
        "::/96",  # IPv4-compatible (deprecated): [::127.0.0.1] reaches loopback on some stacks
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): translates into private networks
        "2001::/32",  # Teredo: tunnels to an address inside it (obfuscated)
        "2001:db8::/32",
        "fc00::/7",  # unique local; AWS's IPv6 metadata service is fd00:ec2::254
        "fe80::/10",
    )
)
# The well-known NAT64 prefix (RFC 6052) reaches the IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Seconds a partner connection may sit idle before the pool drops it. Web servers often close
# idle connections after 5 s (Node, uvicorn, Apache): a POST sent on one at the moment the
# partner closes it fails, so the pool lets go a second sooner.
_KEEPALIVE_EXPIRY_S = 4.0


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form delivers to, for the forms whose target we can judge."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether a webhook may connect to ``address`` (an IP literal, IPv6 zone id allowed).

    The one rule, used at registration and at connect time: an IPv6 form that carries an
    IPv4 address is judged by that address; then the address must be globally reachable
    unicast and in none of the special-purpose ranges above.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if ip.is_multicast or not ip.is_global:
        return False
    return not any(ip in network for network in _NEVER_PUBLIC if network.version == ip.version)


class BlockedAddress(httpcore.ConnectError):
    pass


class Unresolvable(Exception):
    pass


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` (a name, or an IP literal in any spelling the system's resolver
    reads: ``2130706433``, ``0x7f.1``) stands for, as the connection would use them."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # gaierror, or a name IDNA cannot encode
        raise Unresolvable(f"{host} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


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
            addresses = await resolve(host, port)
        except Unresolvable as exc:
            # As httpcore's own backends do: a name that does not resolve is a failed
            # connection (the partner's problem, reported as such), not a crash.
            raise httpcore.ConnectError(str(exc)) from exc
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
    """The HTTP client for partner deliveries: every connection is checked against the SSRF
    guard, and each partner's origin has a connection pool of its own."""

    def guarded_pool() -> httpx.AsyncHTTPTransport:
        transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=100,
                keepalive_expiry=_KEEPALIVE_EXPIRY_S,
            )
        )
        # httpx exposes no option for httpcore's network backend; the pool's attribute is
        # the documented httpcore hook, reached through httpx's transport.
        transport._pool._network_backend = GuardedBackend(
            httpcore.AnyIOBackend(), allow_private=allow_private
        )
        return transport

    return httpx.AsyncClient(
        transport=PoolPerOrigin(guarded_pool),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )


def check_url(url: str, *, allow_private: bool) -> str | None:
    """A reason the URL is not acceptable as a webhook target, or ``None``."""
    try:
        parsed = httpx.URL(url)
        parsed.host  # noqa: B018 - decoding it raises for a malformed IDNA label ("xn--")
    except (httpx.InvalidURL, UnicodeError):
        return "not a valid URL"
    if parsed.scheme != "https" and not (allow_private and parsed.scheme == "http"):
        return "webhook URLs must use https"
    if not parsed.host:
        return "webhook URL has no host"
    if parsed.userinfo:
        return "webhook URLs must not carry credentials"
    return None


async def check_target(url: str, *, allow_private: bool) -> str | None:
    """A reason the URL may not be registered as a webhook target, or ``None``: the checks
    of ``check_url``, then its host must resolve, and (unless private targets are allowed)
    to public addresses only. Connect time checks again (DNS answers change)."""
    reason = check_url(url, allow_private=allow_private)
    if reason is not None:
        return reason
    parsed = httpx.URL(url)
    try:
        addresses = await resolve(parsed.raw_host.decode("ascii"), parsed.port or 443)
    except Unresolvable as exc:
        return str(exc)
    if not allow_private and not all(is_public(a) for a in addresses):
        return f"{parsed.host} resolves to a non-public address"
    return None
