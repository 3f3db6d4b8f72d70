"""Whether the host names in KAFKA_BOOTSTRAP_SERVERS resolve.

To the Kafka client a mistyped host is a broker it cannot connect to: it was waited for as
an outage, said as "BrokerUnreachable" at start-up and "unreachable" in /readyz, and an
operator could wait for a broker that was never down. Said apart, it points at the setting.
It is still waited for — a name may resolve a moment later (a DNS blip, a service whose
record is published as it starts) — but said once, at ERROR, and in every /readyz.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from aiokafka.conn import collect_hosts

log = logging.getLogger(__name__)

UNREACHABLE = "unreachable"  # a broker that does not answer, its name resolving
# A resolver that does not answer must not hold a readiness probe past its own time-out.
_RESOLVE_TIMEOUT_S = 2.0


def bootstrap_names(bootstrap: str) -> list[str]:
    """Pure: the host names of a bootstrap list, in order, each once; address literals
    (``127.0.0.1``, ``[::1]``) need no resolving and are left out."""
    try:
        hosts = collect_hosts(bootstrap, randomize=False)
    except ValueError:  # a port that is no number: the client says so itself
        return []
    names = [host for host, _port, family in hosts if family == socket.AF_UNSPEC]
    return list(dict.fromkeys(names))


async def unresolved_hosts(bootstrap: str) -> list[str]:
    """The bootstrap host names that do not resolve now. One whose resolver does not answer
    in time counts as resolving: only a resolver's "no such name" is said to be one."""
    loop = asyncio.get_running_loop()
    missing = []
    for name in bootstrap_names(bootstrap):
        try:
            async with asyncio.timeout(_RESOLVE_TIMEOUT_S):
                await loop.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except socket.gaierror:
            missing.append(name)
        except TimeoutError:
            continue
    return missing


def not_resolving(hosts: list[str]) -> str:
    """Pure: how start-up and readiness name the hosts that do not resolve."""
    if len(hosts) == 1:
        return f"the bootstrap host {hosts[0]} does not resolve"
    return f"the bootstrap hosts {', '.join(hosts)} do not resolve"


class BrokerState:
    """The broker's state as readiness shows it: ``ok``, ``unreachable``, or which bootstrap
    hosts do not resolve, logged at ERROR when that begins (not at every probe)."""

    def __init__(self, bootstrap: str, answers: Callable[[], Awaitable[bool]]) -> None:
        self._bootstrap = bootstrap
        self._answers = answers
        self._last = "ok"

    async def __call__(self) -> str:
        missing: list[str] = []
        if await self._answers():
            state = "ok"
        else:
            missing = await unresolved_hosts(self._bootstrap)
            state = not_resolving(missing) if missing else UNREACHABLE
        if missing and state != self._last:
            log.error(
                "%s: check KAFKA_BOOTSTRAP_SERVERS (Kafka is waited for meanwhile)",
                state,
                extra={"hosts": missing},
            )
        self._last = state
        return state
