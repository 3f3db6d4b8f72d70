"""The endpoint's transaction, as a dependency: a route that takes ``Transaction`` (or a
service built on it) runs inside one transaction that commits when the endpoint returns and
rolls back when it raises, so a state change, its audit entry and its outbox event commit
together, and no route writes ``async with session.begin()``.

It commits before the response is sent (the dependency's ``function`` scope), so a client
never reads a 2xx for a change that then failed to commit. The request's key is checked
first, in its own short transaction on the same session (``shared.auth.current_principal``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, current_principal
from shared.web import Session


async def transaction(
    session: Session,
    # Declared so that authentication has committed before this transaction begins.
    _: Annotated[Principal, Depends(current_principal)],
) -> AsyncIterator[AsyncSession]:
    async with session.begin():
        yield session


Transaction = Annotated[AsyncSession, Depends(transaction, scope="function")]
