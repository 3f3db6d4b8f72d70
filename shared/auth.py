"""API keys with scopes: stored hashed, compared in constant time, ``Authorization: Bearer``.

A key looks like ``tfk_<id>_<secret>``; the id finds the row, the secret is checked against a
SHA-256 hash (keys are 256-bit random, so a slow password hash would add nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime
from shared.problems import Problem
from shared.rate_limit import RateLimiter
from shared.web import app_context

SCOPES = frozenset(
    {
        "reports:submit",
        "reports:read",
        "reports:review",
        "alerts:read",
        "partners:admin",
        "deliveries:read",
        "deliveries:ops",
    }
)
_PREFIX = "tfk"


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - SCOPES)
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}"
        )
    return sorted(set(scopes))


async def create_api_key(session: AsyncSession, name: str, scopes: list[str], now: datetime) -> str:
    """Store a new key and return it in clear: the only time it is ever seen."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            name=name,
            secret_hash=_hash(secret),
            scopes=" ".join(parse_scopes(scopes)),
            created_at=now,
        )
    )
    return f"{_PREFIX}_{key_id}_{secret}"


async def authenticate(session: AsyncSession, presented: str) -> Principal | None:
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or not key_id or not secret:
        return None
    row = await session.get(ApiKey, key_id)
    # Compare even when the row is missing, so timing does not reveal which ids exist.
    expected = row.secret_hash if row is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or row is None or row.revoked_at:
        return None
    return Principal(row.id, row.name, frozenset(row.scopes.split()))


_UNAUTHENTICATED = Problem(
    401,
    "Unauthenticated",
    "Send an API key: 'Authorization: Bearer <key>'.",
    headers={"WWW-Authenticate": "Bearer"},
)


async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _UNAUTHENTICATED
    async with app_context(request).sessions() as session:
        principal = await authenticate(session, token.strip())
    if principal is None:
        raise _UNAUTHENTICATED
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        wait = limiter.retry_after(principal.key_id, time.monotonic())
        if wait is not None:
            raise Problem(
                429,
                "Too many requests",
                "This key's request rate is limited.",
                headers={"Retry-After": str(math.ceil(wait))},
            )
    return principal


def require_scope(scope: str) -> object:
    """``Depends`` on a principal holding ``scope``: no key is 401, the wrong scope 403."""
    assert scope in SCOPES, scope

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if scope not in principal.scopes:
            raise Problem(403, "Forbidden", f"This key lacks the '{scope}' scope.")
        return principal

    return Depends(dependency)
