"""A partner's answer is read only as far as a delivery needs: an endless body (a broken or
hostile endpoint) neither fills the dispatcher's memory nor holds the attempt until its time
runs out. A real server on loopback streams it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from dispatcher.sender import post_webhook, verification_handshake

_CHUNK = b"x" * 65536
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A partner's endpoint on loopback, written at the socket (``handler``): its URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def endless_answer(status_line: bytes) -> AsyncIterator[str]:
    """A server on loopback answering every request with ``status_line`` and a body that
    never ends (it says 10 GB, and writes until the client goes away)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(status_line + b"\r\nContent-Length: 10000000000\r\n\r\n")
        try:
            while True:
                writer.write(_CHUNK)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async with serving(answer) as url:
        yield url


async def test_an_endless_answer_is_cut_short() -> None:
    async with endless_answer(b"HTTP/1.1 200 OK") as url, httpx.AsyncClient() as client:
        sent = await post_webhook(client, url, b"{}", {}, within_s=5.0)
        # Read whole, the answer would have held the attempt for its 5 s, then failed it.
        assert sent.status == 200 and sent.error is None
        refused = await verification_handshake(client, url, "token", within_s=5.0)
    assert refused == "handshake answer did not echo hub.challenge"


async def test_the_handshake_challenge_is_digits_as_metas_is() -> None:
    """Partner code written for Meta's webhooks may read ``hub.challenge`` as an integer
    before echoing it: Tifli's is random digits, and such an answer verifies."""
    seen: list[str] = []
    agents: list[str] = []

    async def as_a_meta_partner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        query = httpx.URL(head.split(" ")[1]).params
        fields = (line.partition(":") for line in head.split("\r\n"))
        agents.extend(value.strip() for name, _, value in fields if name.lower() == "user-agent")
        seen.append(query["hub.challenge"])
        body = str(int(query["hub.challenge"])).encode()  # what a port of Meta's sample does
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async with serving(as_a_meta_partner) as url, httpx.AsyncClient() as client:
        answers = [
            await verification_handshake(client, url, "token", within_s=5.0) for _ in range(2)
        ]
    assert answers == [None, None]
    assert all(c.isdigit() and len(c) == 10 for c in seen) and seen[0] != seen[1]
    assert agents == ["Tifli-Webhooks/1"] * 2  # as its deliveries say, not python-httpx


async def test_the_handshake_challenge_survives_the_integer_types_of_partners() -> None:
    """Partner code reads ``hub.challenge`` as a number before echoing it (public ports of
    Meta's sample do): in Node.js a float64 (``parseInt``, exact only below 2**53), in Java an
    ``int`` (``Integer.parseInt``, at most 2**31 - 1, else an exception). Eighteen digits came
    back rounded from the one (987654321098765432 as 987654321098765400) and failed the other:
    the handshake failed."""

    async def as_typed_partners(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        challenge = httpx.URL(head.split(" ")[1]).params["hub.challenge"]
        if int(challenge) > 2**31 - 1:  # Integer.parseInt throws: the endpoint answers 500
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        else:
            body = str(int(float(challenge))).encode()  # String(parseInt(challenge))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async with serving(as_typed_partners) as url, httpx.AsyncClient() as client:
        answers = [
            await verification_handshake(client, url, "token", within_s=5.0) for _ in range(20)
        ]
    assert answers == [None] * 20


@pytest.mark.parametrize("charset", ["base64", "rot13", "zlib"])
async def test_a_challenge_in_a_charset_that_is_no_text_encoding_still_verifies(
    charset: str,
) -> None:
    """A partner's server may declare any charset; Python knows these names as codecs that
    are no text encodings. Its challenge, digits, still reads: no server error, verified."""

    async def declaring(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        body = httpx.URL(head.split(" ")[1]).params["hub.challenge"].encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=%s\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (charset.encode(), len(body), body)
        )
        await writer.drain()
        writer.close()

    async with serving(declaring) as url, httpx.AsyncClient() as client:
        assert await verification_handshake(client, url, "token", within_s=5.0) is None


async def test_a_handshake_answer_trickled_a_byte_at_a_time_is_cut_short() -> None:
    """Each byte comes well within httpx's time-out for a read; the whole answer would take
    minutes. The handshake gives up at its own bound, and says why."""

    async def trickling(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        try:
            while True:
                writer.write(b"1")
                await writer.drain()
                await asyncio.sleep(0.2)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    # Each read's time-out (5 s) is never reached: only the handshake's own bound ends it.
    async with serving(trickling) as url, httpx.AsyncClient(timeout=5.0) as client:
        refused = await verification_handshake(client, url, "token", within_s=1.0)
    assert refused == "handshake not answered within 1 s"


async def test_the_handshake_keeps_the_query_the_partner_registered() -> None:
    """A webhook URL may carry a query of its own (a gateway's route, or its key, as an Azure
    Function's ``?code=…==``): deliveries go to it as registered, and so must the handshake,
    the ``hub.*`` fields after it. httpx's ``params`` replaced the query, and the partner's
    endpoint saw another URL."""
    lines: list[str] = []

    async def routed_by_query(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        target = head.split(" ")[1]
        lines.append(target)
        query = httpx.URL(target).params
        ok = query.get("tenant") == "metabook" and query.get("code") == "k3y=="
        body = query["hub.challenge"].encode() if ok else b"unknown tenant"
        status = b"200 OK" if ok else b"404 Not Found"
        writer.write(b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
        await writer.drain()
        writer.close()

    async with serving(routed_by_query) as url, httpx.AsyncClient() as client:
        refused = await verification_handshake(
            client, f"{url}?tenant=metabook&code=k3y==", "a-token 123", within_s=5.0
        )
    assert refused is None
    assert lines[0].startswith("/hook?tenant=metabook&code=k3y==&hub.mode=subscribe&")
    assert httpx.URL(lines[0]).params["hub.verify_token"] == "a-token 123"
