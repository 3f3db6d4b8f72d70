"""Every list endpoint pages the same way: ``limit`` rows from ``offset``, and the offset of
the next page (None on the last), found by asking the database for one row more.

Offsets are bounded so that no number reaches the database that it cannot hold (SQLite's and
PostgreSQL's integers end at 2^63 - 1: past that, a driver error, not a 422). No list is
paged that deep: a million is far beyond any of them, and a 422 past it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Query
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

MAX_OFFSET = 1_000_000
MAX_LIMIT = 200

RowT = TypeVar("RowT")

# The query parameters of every list endpoint.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


async def page_rows(
    session: AsyncSession, query: Select[RowT], limit: int, offset: int
) -> tuple[Sequence[RowT], int | None]:
    """One page of ``query``'s rows (it must be ordered, ties broken), and the next offset."""
    rows = (await session.scalars(query.limit(limit + 1).offset(offset))).all()
    return rows[:limit], offset + limit if len(rows) > limit else None
