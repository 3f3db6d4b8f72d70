"""SSRF guard: a webhook may only reach public addresses, checked at connect time.

Checking the URL when a partner registers is not enough: DNS can answer differently later
(rebinding). So the check sits in the HTTP client's network backend: the name is resolved
there, every address is checked, and the connection goes to an address that passed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

from dispatcher.origin_pools import PoolPerOrigin
from shared.public_addresses import is_public

# Seconds a partner connection may sit idle before the pool drops it. Web servers often close
# idle connections after 5 s (Node, uvicorn, Apache): a POST sent on one at the moment the
# partner closes it fails, so the pool lets go a second sooner.
_KEEPALIVE_EXPIRY_S = 4.0


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
        # Where plain http is allowed (private targets, for tests), saying "https" alone
        # would send the operator after the wrong fix.
        return (
            "webhook URLs must use http or https"
            if allow_private
            else "webhook URLs must use https"
        )
    if not parsed.host:
        return "webhook URL has no host"
    # httpx keeps any number as the port and the resolver wraps it (99999 is 34463): the
    # socket alone refuses it, at connect time, with an error that is no HTTP error.
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        return "webhook URL port must be 1 to 65535"
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
