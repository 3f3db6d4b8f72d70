"""Reading one row by its key, or answering 404: the same words for every kind of row."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Base
from shared.problems import not_found

RowT = TypeVar("RowT", bound=Base)


async def load_or_404(
    session: AsyncSession, model: type[RowT], key: Any, noun: str, *, for_update: bool = False
) -> RowT:
    """The ``model`` row with primary key ``key``, locked for the transaction if
    ``for_update`` (two operators racing on one row: the second waits and sees the first's
    result); a 404 "No <noun> <key>." if there is none."""
    row = await session.get(model, key, with_for_update=for_update)
    if row is None:
        raise not_found(noun, key)
    return row
