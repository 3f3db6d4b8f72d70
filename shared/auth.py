"""API keys with scopes: stored hashed, compared in constant time, ``Authorization: Bearer``.

A key looks like ``tfk_<id>_<secret>``; the id finds the row, the secret is checked against a
SHA-256 hash (keys are 256-bit random, so a slow password hash would add nothing).

A key has a reach: a police **unit** (a code from the ``units`` table, which operators manage)
or **national** (``unit`` is NULL: central review, operators). It may expire, it can be
revoked (refused from the next request on), and it records when it was last used.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime
from shared.key_shape import KEY_PREFIX, key_parts, masked_path, whole_key_id
from shared.problems import Problem
from shared.web import Context, Session

SCOPES = frozenset(
    {
        "reports:submit",
        "reports:read",
        "reports:review",
        "alerts:read",
        "partners:admin",
        "deliveries:read",
        "deliveries:ops",
        # A sighting on any unit's case, recorded as untrusted (a patrol elsewhere saw the child).
        "sightings:submit",
        # Create, list and revoke keys; manage units (national keys only).
        "keys:admin",
        # Read the audit log, which spans every unit (national keys only).
        "audit:read",
    }
)
# Scopes that reach every unit, so only national keys hold them. Managing keys: a unit key
# that could mint a national one would undo the units. Reading the audit log: it names every
# unit's cases. Partners and deliveries: one unit's key could stop or re-key every platform's
# alerts (and receive the secret partners trust), or replay any unit's deliveries.
NATIONAL_ONLY_SCOPES = frozenset(
    {"keys:admin", "audit:read", "partners:admin", "deliveries:read", "deliveries:ops"}
)
# Unit codes are short identifiers ("CASA-ANFA"), not display names: they are compared, typed
# on command lines and shown in logs.
UNIT_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,31}$"
# ``last_used_at`` is written at most this often per key: a write per request would make every
# read a write (and serialise SQLite), for a figure operators read in days.
LAST_USED_PRECISION = timedelta(minutes=1)


class Unit(Base):
    """A police unit that keys and cases belong to; the list operators manage."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # NULL: a national key (sees every unit's cases).
    unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]
    unit: str | None = None  # None: national

    @property
    def national(self) -> bool:
        """Whether the key belongs to no unit and so sees every unit's cases."""
        return self.unit is None


def valid_unit_code(code: str) -> bool:
    """Whether ``code`` is a well-formed unit code (capitals, digits, '.', '_', '-')."""
    return re.fullmatch(UNIT_CODE_PATTERN, code) is not None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: list[str]) -> list[str]:
    """The scopes sorted and deduplicated; ValueError naming any unknown one."""
    unknown = sorted(set(scopes) - SCOPES)
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}"
        )
    return sorted(set(scopes))


class UnknownUnit(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"unknown unit {code!r}: add it first (tifli units add)")
        self.code = code


async def create_api_key(
    session: AsyncSession,
    name: str,
    scopes: list[str],
    now: datetime,
    *,
    unit: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Store a new key and return it in clear: the only time it is ever seen.

    ``unit`` None makes a national key; otherwise it must name a known unit (UnknownUnit)."""
    if unit is not None and await session.get(Unit, unit) is None:
        raise UnknownUnit(unit)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            name=name,
            secret_hash=_hash(secret),
            scopes=" ".join(parse_scopes(scopes)),
            created_at=now,
            unit=unit,
            expires_at=expires_at,
        )
    )
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def key_id_of(key: str) -> str:
    """The id part of a key as ``create_api_key`` returns it."""
    return key.split("_", 2)[1]


async def add_unit(session: AsyncSession, code: str, name: str, now: datetime) -> Unit:
    """Registers a police unit (ValueError if the code is malformed or taken)."""
    if not valid_unit_code(code):
        raise ValueError(
            f"unit code {code!r}: 1 to 32 capital letters, digits, '.', '_' or '-' (e.g. CASA-ANFA)"
        )
    if await session.get(Unit, code) is not None:
        raise ValueError(f"unit {code} exists already")
    unit = Unit(code=code, name=name, created_at=now)
    session.add(unit)
    return unit


async def list_units(session: AsyncSession) -> list[Unit]:
    """Every unit, by code."""
    return list((await session.scalars(select(Unit).order_by(Unit.code))).all())


async def find_api_key(session: AsyncSession, id_or_name: str) -> ApiKey:
    """The key with this id, else the key itself given whole (an operator revoking a leaked
    key pastes it), else the one key with this name. LookupError: none, or several; its
    message never repeats a whole key."""
    by_id = await session.get(ApiKey, id_or_name)
    if by_id is not None:
        return by_id
    whole_id = whole_key_id(id_or_name)
    if whole_id is not None and (by_whole := await session.get(ApiKey, whole_id)) is not None:
        return by_whole
    named = (await session.scalars(select(ApiKey).where(ApiKey.name == id_or_name))).all()
    if not named:
        if whole_id is not None:
            raise LookupError(f"no key with the id of the key given ({whole_id})")
        # Masked: a key pasted with what was copied around it ("Bearer tfk_…") is no whole
        # key, and its secret would be printed back.
        raise LookupError(f"no key with id or name {masked_path(id_or_name)!r}")
    if len(named) > 1:
        ids = ", ".join(k.id for k in named)
        raise LookupError(f"{len(named)} keys are named {id_or_name!r} ({ids}): give the id")
    return named[0]


async def find_api_key_by_id(session: AsyncSession, key_id: str) -> ApiKey:
    """The key with this id (LookupError: none). Where the id travels in a URL, which access
    logs keep: a name may name a person, a whole key is a secret."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise LookupError(f"no key with id {key_id!r}")
    return key


def revoke(key: ApiKey, now: datetime) -> bool:
    """Revoke ``key``; False if it was revoked already (the first revocation time stays)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    return True


KeyState = Literal["active", "expired", "revoked"]


def key_state(key: ApiKey, now: datetime) -> KeyState:
    """``active``, ``expired`` or ``revoked`` as of ``now``."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


async def authenticate(session: AsyncSession, presented: str, now: datetime) -> Principal | None:
    """The key's principal, or None if it is unknown, wrong, revoked or expired at ``now``.
    Records the use (to ``LAST_USED_PRECISION``) in the caller's transaction."""
    parts = key_parts(presented)
    if parts is None:
        return None
    key_id, secret = parts
    row = await session.get(ApiKey, key_id)
    # Compare even when the row is missing, so timing does not reveal which ids exist.
    expected = row.secret_hash if row is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or row is None or row.revoked_at:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    scopes = frozenset(row.scopes.split())
    if row.unit is not None:
        # A unit key made before a scope became national-only keeps it written, but unused.
        scopes -= NATIONAL_ONLY_SCOPES
    return Principal(row.id, row.name, scopes, row.unit)


_UNAUTHENTICATED = Problem(
    401,
    "Unauthenticated",
    "Send an API key: 'Authorization: Bearer <key>'.",
    headers={"WWW-Authenticate": "Bearer"},
)
# A key was sent and is not one: which of the three is not said (a guesser learns nothing).
_KEY_REFUSED = Problem(
    401,
    "Unauthenticated",
    "The API key was not accepted: it is unknown, revoked or expired.",
    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
)


def authenticated(scope: Any) -> bool:
    """Whether the request of ``scope`` presented a key that authenticated (read by request
    guards once the response starts: ``current_principal`` marks the request's state)."""
    state = scope.get("state")
    return isinstance(state, dict) and state.get("authenticated_key") is not None


async def current_principal(request: Request, session: Session, context: Context) -> Principal:
    """The request's key, checked on the request's own session in a short transaction of its
    own, committed before the endpoint's begins: recording a key's use must not hold a lock
    on its row while the endpoint works (``shared.transaction`` orders the two)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _UNAUTHENTICATED
    async with session.begin():
        if session.get_bind().dialect.name == "postgresql":
            # A lookup by primary key (and, rarely, a last-use update): no transaction needed,
            # so none is opened. BEGIN and COMMIT would be two round trips on every request.
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        principal = await authenticate(session, token.strip(), context.clock.now())
    if principal is None:
        raise _KEY_REFUSED
    request.state.authenticated_key = principal.key_id
    limiter = context.rate_limiter
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


def require_scope(scope: str, *also: str) -> object:
    """``Depends`` on a principal holding ``scope`` (or one of ``also``: routes whose finer
    rules depend on the case, such as a sighting from another unit): no key is 401, none of
    the scopes 403. ``scope`` is the one the OpenAPI document names."""
    assert scope in SCOPES and set(also) <= SCOPES, (scope, also)
    accepted = frozenset({scope, *also})

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not accepted & principal.scopes:
            wanted = " or ".join(f"'{s}'" for s in (scope, *also))
            raise Problem(403, "Forbidden", f"This key lacks the {wanted} scope.")
        return principal

    return Depends(dependency)
