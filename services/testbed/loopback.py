"""Serving an ASGI app in this process on 127.0.0.1, and free loopback ports for servers
started elsewhere."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Ports are handed out from below the system's ephemeral range, where the kernel picks the
# local port of each outgoing connection: a connection opened meanwhile (to Kafka, to
# PostgreSQL, by any process of the run) can then never hold the port a server is about to
# bind. Where that range leaves too little room below it, the system chooses (``bind(0)``).
_LOWEST = 20_000
_ROOM = 2_000
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_TRIES = 10_000


@dataclass
class _Lanes:
    """Which ports this process hands out: those ≡ ``lane`` modulo ``count``. Several test
    processes run side by side (pytest-xdist) each take a lane of their own, so a port one
    chose and released for its server to bind is never chosen by another meanwhile."""

    lane: int = 0
    count: int = 1


_LANES = _Lanes()


def use_port_lane(lane: int, count: int) -> None:
    """Hand out only ports ≡ ``lane`` (mod ``count``) from now on in this process."""
    if not 0 <= lane < count:
        raise ValueError(f"lane {lane} is not one of {count}")
    _LANES.lane, _LANES.count = lane, count


def free_port() -> int:
    """A loopback port free right now, for a server in another process to bind."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports of this process's lane (all held open while choosing, so
    none repeats)."""
    with ExitStack() as held:
        return [
            int(held.enter_context(_bound(socket.socket())).getsockname()[1]) for _ in range(count)
        ]


def bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1: on ``port``, or on a free one of this process's lane."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol says
    # TCP, and without it every keep-alive answer stalls 40 ms on Nagle + delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # A server stopped and started again on its port finds it in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if port:
        sock.bind(("127.0.0.1", port))
        return sock
    return _bound(sock)


def _bound(sock: socket.socket) -> socket.socket:
    """``sock`` bound to a free loopback port of this process's lane (closed if none is)."""
    lanes = _LANES.count
    ephemeral = _ephemeral_start()
    with ExitStack() as refused:  # other lanes' ports the system chose, held until done
        for _ in range(_TRIES):
            if ephemeral - _LOWEST >= _ROOM * lanes:
                # A port of the lane, at random: one handed out a moment ago is rarely drawn.
                port = _LOWEST + secrets.randbelow((ephemeral - _LOWEST) // lanes) * lanes
                port += (_LANES.lane - port) % lanes
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue  # taken
                return sock
            sock.bind(("127.0.0.1", 0))
            if sock.getsockname()[1] % lanes == _LANES.lane:
                return sock
            refused.enter_context(sock)
            reuse = sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
            sock = socket.socket(sock.family, sock.type, sock.proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, reuse)
    sock.close()
    raise OSError("no free loopback port found")


def _ephemeral_start() -> int:
    """The first port of the system's ephemeral range (Linux's default where unknown)."""
    try:
        return int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


@asynccontextmanager
async def serve(app: Any, sock: socket.socket, keep_alive_s: int = 5) -> AsyncIterator[str]:
    """Serve ``app`` on the bound ``sock`` while inside; yields its base URL. Leaving
    stops the server and runs the app's shutdown (which drains the components).
    ``keep_alive_s``: how long an idle connection stays open (uvicorn's 5 s, like many
    partners' servers; Tifli's API passes its ``http_keep_alive_s``)."""
    import uvicorn  # here: the command line starts faster without it

    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_keep_alive=keep_alive_s
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(60):
        while not server.started:  # uvicorn offers no start-up event to await
            if task.done():
                task.result()  # it failed to start: raise why
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
