"""Network I/O of the dispatcher: the verification handshake and the signed POST."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

# A partner's answer is read this far at most: a delivery needs only its status and headers,
# and a handshake a short challenge. A small body read whole leaves the connection reusable;
# an endless one must not fill the dispatcher's memory.
_ANSWER_BYTES = 64 * 1024


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """Up to ``limit`` bytes of the answer's body; the rest is never read (the connection is
    then closed rather than reused)."""
    kept = bytearray()
    async for chunk in response.aiter_bytes():
        kept += chunk
        if len(kept) > limit:
            break
    return bytes(kept[:limit])


@dataclass(frozen=True)
class SendResult:
    status: int | None
    latency_ms: float
    error: str | None
    retry_after: str | None


async def post_webhook(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    within_s: float,
) -> SendResult:
    """One attempt, bounded as a whole: httpx's time-outs are per operation, and a partner
    trickling bytes must not outlive the delivery's lease."""
    started = time.perf_counter()
    try:
        async with (
            asyncio.timeout(within_s),
            client.stream(
                "POST",
                url,
                content=body,
                headers={
                    **headers,
                    "content-type": "application/json",
                    "user-agent": USER_AGENT,
                },
            ) as response,
        ):
            await _read_at_most(response, _ANSWER_BYTES)
    except TimeoutError:
        elapsed = (time.perf_counter() - started) * 1000
        return SendResult(None, elapsed, f"no answer within {within_s:g} s", None)
    except httpx.HTTPError as exc:
        # The type alone: transport errors can quote the URL, which holds nothing personal,
        # but keeping it short keeps the attempts log readable.
        return SendResult(
            None, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"[:300], None
        )
    latency = (time.perf_counter() - started) * 1000
    error = None
    if not 200 <= response.status_code < 300:
        error = f"HTTP {response.status_code}"
        if 300 <= response.status_code < 400:
            error += " (redirects are not followed)"
    return SendResult(response.status_code, latency, error, response.headers.get("retry-after"))


# Both requests a partner gets say who sends them (the handshake said python-httpx): a
# partner's firewall or log filter can tell Tifli's calls apart by it.
USER_AGENT = "Tifli-Webhooks/1"
# Ten random digits within a signed 32-bit integer, like the one in Meta's documentation:
# partner code that reads it as a number holds it exactly whatever the type (a Java ``int``,
# a JavaScript number). Eighteen came back rounded from ``parseInt`` and failed
# ``Integer.parseInt``.
_CHALLENGE_LOW, _CHALLENGE_HIGH = 10**9, 2**31 - 1


async def verification_handshake(
    client: httpx.AsyncClient, url: str, verify_token: str, *, within_s: float
) -> str | None:
    """Meta's subscription check: the partner must echo ``hub.challenge``. Returns why it
    failed, or ``None`` when the partner answered correctly. Bounded as a whole, as a
    delivery is: httpx's time-outs are per read, and an endpoint trickling its answer a
    byte at a time held the operator's request (and its connection) for days."""
    # Digits, as Meta sends it ("an int you must pass back"): partner code written for
    # Meta's webhooks may parse it as a number before echoing it.
    challenge = str(_CHALLENGE_LOW + secrets.randbelow(_CHALLENGE_HIGH - _CHALLENGE_LOW + 1))
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    # After the query the partner registered, byte for byte, as its deliveries send it (a
    # gateway's route or key): httpx's ``params`` would replace it, and its merge re-encodes it.
    registered = httpx.URL(url)
    query = "&".join(q for q in (registered.query.decode("ascii"), urlencode(params)) if q)
    target = registered.copy_with(query=query.encode("ascii"))
    try:
        async with (
            asyncio.timeout(within_s),
            client.stream("GET", target, headers={"user-agent": USER_AGENT}) as response,
        ):
            answer = await _read_at_most(response, _ANSWER_BYTES)
    except TimeoutError:
        return f"handshake not answered within {within_s:g} s"
    except httpx.HTTPError as exc:
        return f"handshake request failed: {type(exc).__name__}: {exc}"[:300]
    if response.status_code != 200:
        return f"handshake answered HTTP {response.status_code}"
    if _as_text(answer, response.encoding).strip() != challenge:
        return "handshake answer did not echo hub.challenge"
    return None


def _as_text(answer: bytes, charset: str | None) -> str:
    """The partner's answer in the charset it declares, else UTF-8. Python also knows codecs
    from bytes to bytes by charset-like names ("base64", "rot13", "zlib"): declared by a
    partner, ``decode`` raised LookupError, and the registration answered 500."""
    try:
        return answer.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return answer.decode("utf-8", errors="replace")
