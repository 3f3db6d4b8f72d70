"""Request guards applied before routing: JSON bodies only (each key once), a size limit,
no control characters in the path or query, and a limit on failed authentication per client
address."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import authenticated
from shared.problems import UNREADABLE_BODY, Problem, invalid_body, problem_response
from shared.rate_limit import RateLimiter

BODY_METHODS = {"POST", "PUT", "PATCH"}  # the methods whose body is guarded


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Body too large",
        f"The limit is {limit} bytes.",
        errors=[{"field": "body", "message": "too large"}],
    )


class JsonBodyGuard:
    """415 for a body that is not JSON, 413 for one over the limit, 422 for one that does not
    parse or for an object that gives a key twice, as problem+json (on every operation: one
    that reads no body does not silently take a broken one).

    The body is read here, up to the limit, and handed on: a chunked one's size would
    otherwise only be known after the application had buffered all of it.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self._app = app
        self._max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        problem = None
        if length is not None and length.isdigit() and int(length) > self._max:
            problem = _too_large(self._max)
        elif (length not in (None, "0") or chunked) and not _is_json(headers):
            problem = Problem(
                415,
                "Unsupported media type",
                "Send the body as application/json, in UTF-8, uncompressed.",
                errors=[
                    {
                        "field": "header.Content-Type",
                        "message": "must be application/json (UTF-8, no Content-Encoding)",
                    }
                ],
            )
        elif length not in (None, "0") or chunked:
            # Read here: a chunked body's size is only known once read, and a key given
            # twice must be refused before the application keeps the last of them.
            body = await _read_up_to(receive, self._max)
            if body is None:
                problem = _too_large(self._max)
            else:
                problem = _unparsed_or_twice_given(body)
                receive = _replay(body)
        if problem is None:
            await self._app(scope, receive, send)
            return
        await problem_response(problem, scope.get("path"))(scope, receive, send)


class _Repeating(dict[str, Any]):
    """A parsed object that gave ``repeated`` twice."""

    repeated = ""


def _noting_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            found = _Repeating(pairs)
            found.repeated = key
            return found
        seen.add(key)
    return dict(pairs)


def _repeated_field(value: Any) -> str | None:
    """The dotted path of the first key given twice in the parsed body, if any."""
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:  # a loop, not recursion: bodies may nest deeply
        item, path = pending.pop()
        if isinstance(item, _Repeating):
            return f"{path}{item.repeated}"
        if isinstance(item, dict):
            pending.extend((v, f"{path}{k}.") for k, v in reversed(item.items()))
        elif isinstance(item, list):
            pending.extend((v, f"{path}{i}.") for i, v in reversed(list(enumerate(item))))
    return None


def _unparsed_or_twice_given(body: bytes) -> Problem | None:
    """422 for a body that does not parse as JSON (worded as the application words it), or
    for a JSON object that gives one key twice. JSON parsers keep the first or the last: a
    gateway or a log reading the first would see other data than Tifli keeps (consent false,
    then true)."""
    try:
        # Decoded as UTF-8 here: given bytes, the parser would guess UTF-16 or UTF-32 from the
        # first ones and take them too. (A UTF-8 byte-order mark, which RFC 8259 lets a
        # parser ignore, is ignored.)
        text = body.decode("utf-8-sig")
        field = _repeated_field(json.loads(text, object_pairs_hook=_noting_repeats))
    except json.JSONDecodeError as broken:
        return invalid_body(f"not valid JSON: {broken.msg}")
    except (ValueError, RecursionError):  # not UTF-8, or nested past the parser's limit
        return UNREADABLE_BODY
    if field is None:
        return None
    field = _CONTROL.sub("?", field)
    message = "is given twice in one object"
    return Problem(
        422,
        "Invalid request",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
    )


def _is_json(headers: dict[str, str]) -> bool:
    """JSON as RFC 8259 has it: UTF-8 (no other charset), and not compressed (the body
    would be read as its compressed bytes)."""
    media_type, *parameters = headers.get("content-type", "").lower().split(";")
    media_type = media_type.strip()
    charsets = [
        p.split("=", 1)[1].strip(' "') for p in parameters if p.strip().startswith("charset=")
    ]
    encoding = headers.get("content-encoding", "identity").strip().lower()
    return (
        (media_type == "application/json" or media_type.endswith("+json"))
        and all(charset in ("utf-8", "utf8") for charset in charsets)
        and encoding in ("", "identity")
    )


async def _read_up_to(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class FailedAuthLimit:
    """429 for a client address that has failed authentication too often, before its
    request costs a key lookup (a flood of made-up keys must be refused cheaply).

    Every 401 the API answers takes a token from the address's bucket; while the bucket is
    empty, a request from that address presenting a key is a 429 with Retry-After — unless
    that key authenticated recently (``KnownKeys``): one stale client behind a police
    gateway's address must not hold up the valid keys sharing it, least of all the one
    resolving a case. A request presenting no key passes (it costs no lookup; without a key
    a keyed route answers 401 at once). The address is the TCP peer's; behind a proxy, name
    it in ``TIFLI_TRUSTED_PROXIES`` so that it is the client's.
    """

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, prefix: str = "/v1/") -> None:
        self._app = app
        self._limiter = limiter
        self._prefix = prefix
        self._known = KnownKeys()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._prefix):
            await self._app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        presented = _bearer_token(scope)
        now = time.monotonic()
        wait = self._limiter.blocked_for(address, now) if presented else None
        if wait is not None and not self._known.holds(presented, now):
            problem = Problem(
                429,
                "Too many requests",
                "Too many failed authentications from this address.",
                headers={"Retry-After": str(math.ceil(wait))},
            )
            await problem_response(problem, scope["path"])(scope, receive, send)
            return

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 401:
                    self._limiter.retry_after(address, time.monotonic())
                    self._known.forget(presented)
                elif presented and authenticated(scope):
                    self._known.add(presented, time.monotonic())
            await send(message)

        await self._app(scope, receive, observed)


def _bearer_token(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


class KnownKeys:
    """Digests of keys that authenticated in the last ``ttl_s``, at most ``capacity`` (the
    least recently seen go first). Only a pass through the failed-authentication limit: the
    request is still authenticated in full (a key revoked since is a 401, and forgotten)."""

    def __init__(self, ttl_s: float = 900.0, capacity: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._until: OrderedDict[bytes, float] = OrderedDict()

    def add(self, key: str, now: float) -> None:
        digest = _digest(key)
        self._until[digest] = now + self._ttl_s
        self._until.move_to_end(digest)
        while len(self._until) > self._capacity:
            self._until.popitem(last=False)

    def holds(self, key: str, now: float) -> bool:
        until = self._until.get(_digest(key))
        return until is not None and now < until

    def forget(self, key: str) -> None:
        if key:
            self._until.pop(_digest(key), None)


def _digest(key: str) -> bytes:
    # Keys are never kept in the clear, not even in memory for longer than a request.
    return hashlib.sha256(key.encode()).digest()


# As in request bodies (shared/input_types.py): C0 and C1 controls, DEL, lone surrogates.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class ControlCharacterGuard:
    """A percent-encoded control character in the path or the query (``%00``) never
    reaches a handler: PostgreSQL cannot even compare a text with a NUL in it (a driver
    error, a 500). In the path it names nothing that exists: 404. In the query: 422 naming
    the parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = None
        if scope["type"] == "http":
            if _CONTROL.search(scope["path"]):
                problem = Problem(404, "Not found", "No such resource.")
            else:
                query = scope["query_string"].decode("latin-1")
                for name, value in parse_qsl(query, keep_blank_values=True):
                    if _CONTROL.search(name) or _CONTROL.search(value):
                        field = f"query.{_CONTROL.sub('?', name)}"
                        message = "must not contain control characters"
                        problem = Problem(
                            422,
                            "Invalid request",
                            f"{field}: {message}",
                            errors=[{"field": field, "message": message}],
                        )
                        break
        if problem is None:
            await self._app(scope, receive, send)
            return
        await problem_response(problem, None)(scope, receive, send)
