"""Every list endpoint pages the same way: ``limit`` rows from ``offset``, and the offset of
the next page (None on the last), found by asking the database for one row more.

Lists that change while a client walks them (cases leaving the review queue as they are
approved, deliveries changing state) also page by ``cursor``: the position after the last row
seen, so no row is skipped or shown twice when rows before it come or go.

Offsets are bounded so that no number reaches the database that it cannot hold (SQLite's and
PostgreSQL's integers end at 2^63 - 1: past that, a driver error, not a 422). No list is
paged that deep: a million is far beyond any of them, and a 422 past it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.input_types import QUERY_DIGITS
from shared.problems import field_problem

MAX_OFFSET = 1_000_000
MAX_LIMIT = 200

RowT = TypeVar("RowT")

# The query parameters of every list endpoint.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT), QUERY_DIGITS]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET), QUERY_DIGITS]
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Page on from a previous page's `next_cursor` (not with `offset`): no "
        "row is skipped or repeated when the list changes meanwhile.",
    ),
]


async def page_rows(
    session: AsyncSession, query: Select[RowT], limit: int, offset: int
) -> tuple[Sequence[RowT], int | None]:
    """One page of ``query``'s rows (it must be ordered, ties broken), and the next offset."""
    rows = (await session.scalars(query.limit(limit + 1).offset(offset))).all()
    return rows[:limit], offset + limit if len(rows) > limit else None


@dataclass(frozen=True)
class Page(Generic[RowT]):
    rows: Sequence[RowT]
    next_offset: int | None  # None on the last page, or when paging by cursor
    next_cursor: str | None  # None on the last page


async def page_newest_first(
    session: AsyncSession,
    query: Select[Any],
    created: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[str],
    *,
    limit: int,
    offset: int,
    cursor: str | None,
) -> Page[Any]:
    """One page of ``query``'s rows, newest ``created`` first, ``ident`` breaking ties (the
    query must be ordered so), from ``offset`` or after ``cursor``."""
    if cursor is not None:
        if offset:
            raise field_problem("query.offset", "give offset or cursor, not both")
        at, key = _decoded(cursor)
        query = query.where(or_(created < at, and_(created == at, ident > key)))
    rows = (await session.scalars(query.limit(limit + 1).offset(offset))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(
        rows,
        offset + limit if more and cursor is None else None,
        _encoded(getattr(last, created.key), getattr(last, ident.key)) if last else None,
    )


def _encoded(at: datetime, key: str) -> str:
    text = json.dumps([at.isoformat(), key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decoded(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, key = json.loads(text)
        moment = datetime.fromisoformat(at)
        # The lists' keys are ids: a key holding a control character or a lone surrogate
        # (JSON's "\ud800") is none of them, and no database driver can even send it.
        if not isinstance(key, str) or moment.tzinfo is None or not key.isprintable():
            raise ValueError
        # In UTC, as the rows are: a time at either end of the calendar with an offset
        # would overflow there, in the database driver (a 500) rather than here.
        moment = moment.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise field_problem("query.cursor", "not a cursor this list gave") from None
    return moment, key
