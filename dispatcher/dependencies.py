"""What the dispatcher's routes take from the running app, as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request

from dispatcher.delivery_ops import DeliveryService
from dispatcher.partners import PartnerService
from shared.transaction import Transaction
from shared.web import Context, Now, Session, part


@dataclass(frozen=True)
class DispatcherLink:
    """The app's part for the dispatcher's routes: the client that reaches partners (through
    the address guard), and a nudge for this process's dispatcher (it does nothing when the
    dispatcher runs elsewhere, which then finds the work on its next poll)."""

    webhook_client: httpx.AsyncClient
    wake_dispatcher: Callable[[], None]


async def dispatcher_link(request: Request) -> DispatcherLink:
    return part(request, DispatcherLink)


async def partner_service(session: Transaction, context: Context, now: Now) -> PartnerService:
    return PartnerService(session, now, context.sealer)


async def partner_service_between_calls(
    session: Session, context: Context, now: Now
) -> PartnerService:
    return PartnerService(session, now, context.sealer)


async def delivery_service(session: Transaction, now: Now) -> DeliveryService:
    return DeliveryService(session, now)


Link = Annotated[DispatcherLink, Depends(dispatcher_link)]
Partners = Annotated[PartnerService, Depends(partner_service)]
# For the routes that call a partner: they open their own transactions around the call, so
# that no transaction (nor SQLite's write lock) is held while a partner takes its time.
PartnersBetweenCalls = Annotated[PartnerService, Depends(partner_service_between_calls)]
Deliveries = Annotated[DeliveryService, Depends(delivery_service)]
