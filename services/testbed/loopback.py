"""Serving an ASGI app in this process on 127.0.0.1, and free loopback ports for servers
started elsewhere."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any


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
    with ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port % _LANES.count == _LANES.lane:
                ports.append(port)
        return ports


def bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1: on ``port``, or on a free one of this process's lane."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol says
    # TCP, and without it every keep-alive answer stalls 40 ms on Nagle + delayed ACK.
    with ExitStack() as refused:  # ports of other lanes, held until one of this lane is bound
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            # A server stopped and started again on its port finds it in TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            if port or sock.getsockname()[1] % _LANES.count == _LANES.lane:
                return sock
            refused.enter_context(sock)


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
