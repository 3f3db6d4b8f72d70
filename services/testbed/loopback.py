"""Serving an ASGI app in this process on 127.0.0.1, and free loopback ports for servers
started elsewhere."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any


def free_port() -> int:
    """A loopback port free right now, for a server in another process to bind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (all held open while choosing, so none repeats)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def bound_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1: on ``port``, or on one the system chose (free)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol says
    # TCP, and without it every keep-alive answer stalls 40 ms on Nagle + delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # A server stopped and started again on its port finds it in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


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
