"""Key management use cases: create, list, revoke; each act on a key is
audited. Like the report use cases, they run in the caller's transaction and never commit.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.key_schemas import MAX_LIFETIME_DAYS, KeyCreated, KeyOut, KeyPage
from intake_api.models import AuditEntry
from shared.auth import (
    NATIONAL_ONLY_SCOPES,
    ApiKey,
    UnknownUnit,
    create_api_key,
    find_api_key,
    find_api_key_by_id,
    key_id_of,
    key_state,
    parse_scopes,
    revoke,
)
from shared.paging import page_rows

log = logging.getLogger(__name__)
# The actor recorded for acts from the host's command line, where no API key is presented.
CLI_ACTOR = "cli"


class KeyRulesError(ValueError):
    """A key that must not be made; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ScopesNotHeld(PermissionError):
    """The creating key would hand out scopes it does not hold itself."""


def check_reach(scopes: list[str], unit: str | None) -> None:
    """Refuses national-only scopes on a unit key (KeyRulesError), so a unit cannot reach beyond its
    cases."""
    for scope in sorted(NATIONAL_ONLY_SCOPES):
        if unit is not None and scope in scopes:
            raise KeyRulesError("scopes", f"'{scope}' is for national keys only")


def key_out(key: ApiKey, now: datetime) -> KeyOut:
    """The key as the API shows it: never its secret, its state as of ``now``."""
    return KeyOut(
        id=key.id,
        name=key.name,
        scopes=key.scopes.split(),
        unit=key.unit,
        state=key_state(key, now),
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def _audit(session: AsyncSession, actor: str, action: str, key_id: str, now: datetime) -> None:
    session.add(AuditEntry(at=now, key_id=actor, action=action, target_key_id=key_id))
    # Names may carry a person's name: the log gets ids only.
    log.info("api key %s", action, extra={"key_id": actor, "target_key_id": key_id})


async def create(
    session: AsyncSession,
    actor: str,
    now: datetime,
    *,
    name: str,
    scopes: list[str],
    unit: str | None,
    expires_in: timedelta | None,
    holder_scopes: frozenset[str] | None = None,
    holder_expires_at: datetime | None = None,
) -> KeyCreated:
    """KeyRulesError (naming the field) for unknown scopes or unit, or a forbidden reach;
    then ScopesNotHeld if ``holder_scopes`` (the creating key's, through the API; None: the
    host's command line) lack any of them. A key that may only manage keys would otherwise
    make a submitter and a reviewer, and publish an alert alone past the four-eyes rule.
    Likewise a key expiring at ``holder_expires_at`` makes none that outlives it: a key
    given for a day would otherwise make itself a successor that never expires."""
    try:
        scopes = parse_scopes(scopes)
    except ValueError as exc:
        raise KeyRulesError("scopes", str(exc)) from None
    check_reach(scopes, unit)
    beyond = sorted(set(scopes) - holder_scopes) if holder_scopes is not None else []
    if beyond:
        raise ScopesNotHeld(
            f"A key hands out only scopes it holds itself; this one lacks {', '.join(beyond)}."
        )
    if expires_in is not None and expires_in > timedelta(days=MAX_LIFETIME_DAYS):
        raise KeyRulesError(
            "expires_in_days", f"a key lives at most {MAX_LIFETIME_DAYS} days (ten years)"
        )
    expires_at = now + expires_in if expires_in is not None else None
    if holder_expires_at is not None and (expires_at is None or expires_at > holder_expires_at):
        days = max(1, math.floor((holder_expires_at - now) / timedelta(days=1)))
        raise KeyRulesError(
            "expires_in_days",
            f"a key makes none that outlives it: this one expires at "
            f"{holder_expires_at.isoformat()}, so at most {days} days",
        )
    try:
        secret = await create_api_key(session, name, scopes, now, unit=unit, expires_at=expires_at)
    except UnknownUnit as exc:
        raise KeyRulesError("unit", str(exc)) from None
    await session.flush()
    key = await session.get(ApiKey, key_id_of(secret))
    assert key is not None
    _audit(session, actor, "key_create", key.id, now)
    return KeyCreated(**key_out(key, now).model_dump(), key=secret)


async def expiry_of(session: AsyncSession, key_id: str) -> datetime | None:
    """When the key ``key_id`` expires (None: never, or no such key)."""
    key = await session.get(ApiKey, key_id)
    return key.expires_at if key is not None else None


async def page(session: AsyncSession, now: datetime, limit: int, offset: int) -> KeyPage:
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    rows, next_offset = await page_rows(session, query, limit, offset)
    return KeyPage(items=[key_out(k, now) for k in rows], next_offset=next_offset)


async def revoke_key(
    session: AsyncSession, actor: str, now: datetime, id_or_name: str, *, by_id_only: bool = False
) -> KeyOut:
    """LookupError if no key (or several) answers to ``id_or_name`` (``find_api_key``; with
    ``by_id_only``, to its id only). Revoking a revoked key changes nothing and is not
    audited again."""
    found = find_api_key_by_id if by_id_only else find_api_key
    key = await found(session, id_or_name)
    if revoke(key, now):
        _audit(session, actor, "key_revoke", key.id, now)
    return key_out(key, now)
