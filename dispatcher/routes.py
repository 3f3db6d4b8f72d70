"""Operator endpoints: partner registration (with the handshake) and the deliveries log."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    PartnerIn,
    PartnerOut,
    PartnerWithSecret,
    RotateIn,
)
from dispatcher.sender import verification_handshake
from dispatcher.service import DeliveryService, PartnerService, partner_out
from shared.auth import Principal, require_scope
from shared.web import app_context, db_session

partners = APIRouter(prefix="/v1/partners", tags=["partners"])
deliveries = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

Session = Annotated[AsyncSession, Depends(db_session)]
Admin = Annotated[Principal, require_scope("partners:admin")]
DeliveryReader = Annotated[Principal, require_scope("deliveries:read")]
DeliveryOps = Annotated[Principal, require_scope("deliveries:ops")]


def _client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.webhook_client
    return client


@partners.post("", status_code=201, response_model=PartnerWithSecret)
async def register_partner(
    body: PartnerIn, request: Request, session: Session, _: Admin
) -> PartnerWithSecret:
    """Registers the endpoint and runs Meta's verification handshake at once. The partner is
    ``active`` only if it echoed the challenge; otherwise ``unverified`` with the reason
    (fix the endpoint, then POST …/verify). The secret is shown here only."""
    context = app_context(request)
    PartnerService.check(body, allow_private=context.settings.webhook_allow_private)
    failure = await verification_handshake(_client(request), body.url, body.verify_token)
    async with session.begin():
        return await PartnerService(session, context.clock.now()).register(body, failure)


@partners.get("", response_model=list[PartnerOut])
async def list_partners(request: Request, session: Session, _: Admin) -> list[PartnerOut]:
    async with session.begin():
        return await PartnerService(session, app_context(request).clock.now()).all()


@partners.get("/{partner_id}", response_model=PartnerOut)
async def read_partner(partner_id: str, request: Request, session: Session, _: Admin) -> PartnerOut:
    async with session.begin():
        service = PartnerService(session, app_context(request).clock.now())
        return partner_out(await service.load(partner_id))


@partners.post("/{partner_id}/verify", response_model=PartnerOut)
async def verify_partner(
    partner_id: str, request: Request, session: Session, _: Admin
) -> PartnerOut:
    context = app_context(request)
    async with session.begin():
        partner = await PartnerService(session, context.clock.now()).load(partner_id)
        url, token = partner.url, partner.verify_token
    failure = await verification_handshake(_client(request), url, token)
    async with session.begin():
        return await PartnerService(session, context.clock.now()).record_handshake(
            partner_id, failure
        )


@partners.delete("/{partner_id}", response_model=PartnerOut)
async def disable_partner(
    partner_id: str, request: Request, session: Session, _: Admin
) -> PartnerOut:
    """Disables the partner (its delivery history stays readable)."""
    async with session.begin():
        return await PartnerService(session, app_context(request).clock.now()).disable(
            partner_id, "disabled by an operator"
        )


@partners.post("/{partner_id}/rotate-secret", response_model=PartnerWithSecret)
async def rotate_secret(
    partner_id: str, body: RotateIn, request: Request, session: Session, _: Admin
) -> PartnerWithSecret:
    """A new secret, shown once; the old one keeps signing too for ``overlap_hours``."""
    async with session.begin():
        return await PartnerService(session, app_context(request).clock.now()).rotate_secret(
            partner_id, timedelta(hours=body.overlap_hours)
        )


@deliveries.get("", response_model=DeliveryPage)
async def list_deliveries(
    request: Request,
    session: Session,
    _: DeliveryReader,
    alert_id: str | None = None,
    partner_id: str | None = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeliveryPage:
    async with session.begin():
        return await DeliveryService(session, app_context(request).clock.now()).page(
            alert_id=alert_id, partner_id=partner_id, status=status, limit=limit, offset=offset
        )


@deliveries.get("/{delivery_id}", response_model=DeliveryOut)
async def read_delivery(
    delivery_id: str, request: Request, session: Session, _: DeliveryReader
) -> DeliveryOut:
    """The delivery with every attempt: time, status code, latency, error."""
    async with session.begin():
        return await DeliveryService(session, app_context(request).clock.now()).get(delivery_id)


@deliveries.post("/{delivery_id}/replay", response_model=DeliveryOut)
async def replay_delivery(
    delivery_id: str, request: Request, session: Session, _: DeliveryOps
) -> DeliveryOut:
    """Sends a dead (or delivered) delivery again, with the same ``webhook-id``."""
    context = app_context(request)
    async with session.begin():
        result = await DeliveryService(session, context.clock.now()).replay(
            delivery_id, timedelta(hours=context.settings.cancel_retry_hours)
        )
    wake = getattr(request.app.state, "wake_dispatcher", None)
    if wake is not None:
        wake()
    return result
