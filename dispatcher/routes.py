"""Operator endpoints: partner registration (with the handshake) and the deliveries log."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Header, Query
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from dispatcher.dependencies import Deliveries, Link, Partners, PartnersBetweenCalls
from dispatcher.partners import PartnerService
from dispatcher.ping import send_ping
from dispatcher.schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    PartnerIn,
    PartnerOut,
    PartnerPage,
    PartnerPatch,
    PartnerWithSecret,
    PingOut,
    PingPayload,
    RotateIn,
    WebhookPayload,
    patch_applied,
)
from dispatcher.sender import verification_handshake
from shared.auth import Principal, require_scope
from shared.entity_ids import EntityId
from shared.paging import Cursor, Limit, Offset
from shared.problem_schema import AUTHENTICATED, WITH_BODY, problem_responses
from shared.problems import Problem, field_problem, validation_problem
from shared.web import Context, Now, Session

log = logging.getLogger(__name__)

partners = APIRouter(prefix="/v1/partners", tags=["partners"])
deliveries = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

Admin = Annotated[Principal, require_scope("partners:admin")]
DeliveryReader = Annotated[Principal, require_scope("deliveries:read")]
DeliveryOps = Annotated[Principal, require_scope("deliveries:ops")]

LIST_ERRORS = problem_responses(*AUTHENTICATED, 422)
READ_ERRORS = problem_responses(*AUTHENTICATED, 404)
ACTION_ERRORS = problem_responses(*AUTHENTICATED, 404, 409)
BODY_ERRORS = problem_responses(*AUTHENTICATED, *WITH_BODY)


@partners.post(
    "",
    status_code=201,
    response_model=PartnerWithSecret,
    responses=problem_responses(*AUTHENTICATED, 409, *WITH_BODY),
    operation_id="partners_register",
    response_description="The partner, `active` or `unverified`, with its secret (shown once).",
    summary="Register a partner's webhook",
)
async def register_partner(
    body: PartnerIn,
    principal: Admin,
    partners: PartnersBetweenCalls,
    session: Session,
    context: Context,
    link: Link,
) -> PartnerWithSecret:
    """Registers the endpoint and runs Meta's verification handshake at once (see the
    `partner.verify` webhook). The partner is `active` only if it echoed the challenge;
    otherwise `unverified` with the reason (fix the endpoint, then `partners_verify`).
    The signing secret is shown here only: keep it.

    The URL must be HTTPS and resolve to public addresses (422 otherwise), unless the
    service runs with `TIFLI_WEBHOOK_ALLOW_PRIVATE=true`. An endpoint another partner has,
    even a disabled one, is a 409 naming that partner: verify or correct it instead (the
    alerts the endpoint shows, and their take-downs, are that partner's).

    **Scope:** `partners:admin`. **Events:** none. An active partner is sent at once the
    alerts already up that meet its coverage (each as `alert.issued`, at its newest version),
    then every alert whose zone meets it.
    """
    await PartnerService.check(body, allow_private=context.settings.webhook_allow_private)
    async with session.begin():  # before the handshake: no request for an endpoint taken
        await partners.refuse_registered_url(body.url)
    failure = await verification_handshake(
        link.webhook_client,
        body.url,
        body.verify_token,
        within_s=context.settings.webhook_timeout_s,
    )
    async with session.begin():
        registered = await partners.register(body, failure)
    # Its id is in no path the access log shows: say who registered which endpoint (ids only).
    log.info(
        "partner registered",
        extra={
            "partner_id": registered.id,
            "key_id": principal.key_id,
            "partner_status": registered.status,
        },
    )
    link.wake_dispatcher()  # committed: the alerts already up go now
    return registered


@partners.get(
    "",
    response_model=PartnerPage,
    responses=LIST_ERRORS,
    operation_id="partners_list",
    response_description="One page of partners.",
    summary="List partners",
)
async def list_partners(
    _: Admin, partners: Partners, limit: Limit = 50, offset: Offset = 0
) -> PartnerPage:
    """Partners in registration order with their status; `next_offset` pages on.
    Secrets are never shown again.

    **Scope:** `partners:admin`. **Events:** none.
    """
    return await partners.page(limit=limit, offset=offset)


@partners.get(
    "/{partner_id}",
    response_model=PartnerOut,
    responses=READ_ERRORS,
    operation_id="partners_read",
    response_description="The partner.",
    summary="Read a partner",
)
async def read_partner(partner_id: EntityId, _: Admin, partners: Partners) -> PartnerOut:
    """The partner's endpoint, languages, coverage, status, rotation window and pause (until
    when its Retry-After holds every delivery to it).

    **Scope:** `partners:admin`. **Events:** none.
    """
    return await partners.read(partner_id)


@partners.patch(
    "/{partner_id}",
    response_model=PartnerOut,
    responses=problem_responses(*AUTHENTICATED, 404, 409, *WITH_BODY),
    operation_id="partners_correct",
    response_description="The partner as corrected.",
    summary="Correct a partner's registration",
)
async def correct_partner(
    partner_id: EntityId,
    patch: PartnerPatch,
    principal: Admin,
    partners: PartnersBetweenCalls,
    session: Session,
    context: Context,
    link: Link,
) -> PartnerOut:
    """Changes a partner's name, endpoint, verification token, languages or coverage; the
    fields given replace the stored ones (a `coverage` of null removes it). Its id, secret
    and deliveries stay.

    A new `url` or `verify_token` is checked like a registration's and must pass Meta's
    handshake first: if it does not, nothing changes (a 422 naming the field and why) and
    alerts keep going to the endpoint that works. What waits for the partner then goes to the
    new endpoint; an unverified partner becomes active (a disabled one stays disabled). An
    active partner is sent at once the alerts up that now meet its coverage and that it never
    had.

    **Scope:** `partners:admin`. **Events:** none.
    """
    async with session.begin():
        current = await partners.registration(partner_id)
    try:
        corrected = patch_applied(patch, current)
    except ValidationError as invalid:
        raise validation_problem(invalid.errors()) from None
    endpoint = (corrected.url, corrected.verify_token)
    verified = None
    if endpoint != (current.url, current.verify_token):
        # Checked before anything is stored, and outside a transaction: the handshake waits
        # on the partner's server for up to the webhook time-out.
        await PartnerService.check(corrected, allow_private=context.settings.webhook_allow_private)
        if corrected.url != current.url:
            async with session.begin():
                await partners.refuse_registered_url(corrected.url, other_than=partner_id)
        failure = await verification_handshake(
            link.webhook_client, *endpoint, within_s=context.settings.webhook_timeout_s
        )
        if failure is not None:
            field = "url" if corrected.url != current.url else "verify_token"
            raise field_problem(
                field, f"the endpoint did not pass the handshake ({failure}); nothing changed"
            )
        verified = endpoint
    cancel_retry = timedelta(hours=context.settings.cancel_retry_hours)
    async with session.begin():
        changed = await partners.correct(partner_id, patch, verified, cancel_retry=cancel_retry)
    log.info(
        "partner corrected",
        extra={
            "partner_id": partner_id,
            "key_id": principal.key_id,
            "new_endpoint": bool(verified),
        },
    )
    link.wake_dispatcher()  # committed: what it now meets goes now
    return changed


@partners.post(
    "/{partner_id}/verify",
    response_model=PartnerOut,
    responses=READ_ERRORS,
    operation_id="partners_verify",
    response_description="The partner after the handshake.",
    summary="Run the verification handshake again",
)
async def verify_partner(
    partner_id: EntityId,
    _: Admin,
    partners: PartnersBetweenCalls,
    session: Session,
    context: Context,
    link: Link,
) -> PartnerOut:
    """Sends Meta's handshake to the registered URL again: `active` if the partner echoes
    the challenge, `unverified` with the reason otherwise.

    An active partner then gets what waited for it, and the alerts up that meet its coverage
    and that it never had (issued while it was disabled or unverified).

    **Scope:** `partners:admin`. **Events:** none.
    """
    async with session.begin():
        partner = await partners.load(partner_id)
        url, token = partner.url, partners.verify_token(partner)
    failure = await verification_handshake(
        link.webhook_client, url, token, within_s=context.settings.webhook_timeout_s
    )
    async with session.begin():
        verified = await partners.record_handshake(
            partner_id, failure, cancel_retry=timedelta(hours=context.settings.cancel_retry_hours)
        )
    link.wake_dispatcher()  # committed: what it is owed goes now
    return verified


@partners.post(
    "/{partner_id}/test",
    response_model=PingOut,
    responses=ACTION_ERRORS,
    operation_id="partners_test",
    response_description="The partner's answer to the test event: status code and latency.",
    summary="Send a partner a signed test event",
)
async def send_test_event(
    partner_id: EntityId,
    _: Admin,
    partners: PartnersBetweenCalls,
    session: Session,
    context: Context,
    link: Link,
    now: Now,
) -> PingOut:
    """Sends one test event, `{"type": "ping", "id": …, "sent_at": …}`, signed exactly like
    an alert (both signature headers, a new `webhook-id`), through the same address guard,
    and reports the partner's status code and latency. It carries no alert and no child
    data, and is not recorded as a delivery. 200 whatever the partner answered: read
    `delivered`. Accepted, it counts as the partner answering again: its deliveries waiting
    out a back-off are due at once. 409 unless the partner is `active` (nothing is sent to
    an endpoint that has not passed the handshake).

    **Scope:** `partners:admin`. **Events:** none.
    """
    async with session.begin():
        partner = await partners.load(partner_id)
        if partner.status != "active":
            raise Problem(409, "Conflict", f"The partner is {partner.status}, not active.")
        session.expunge(partner)  # read after the transaction: no lock held while it answers
    answer = await send_ping(
        link.webhook_client,
        partner,
        now,
        context.sealer,
        within_s=context.settings.webhook_timeout_s,
    )
    if answer.delivered:
        async with session.begin():
            await partners.answered_test(partner_id)
    return answer


@partners.delete(
    "/{partner_id}",
    response_model=PartnerOut,
    responses=READ_ERRORS,
    operation_id="partners_disable",
    response_description="The disabled partner.",
    summary="Disable a partner",
)
async def disable_partner(partner_id: EntityId, _: Admin, partners: Partners) -> PartnerOut:
    """Disables the partner: nothing more is sent to it; its delivery history stays readable.

    **Scope:** `partners:admin`. **Events:** none.
    """
    return await partners.disable(partner_id, "disabled by an operator")


@partners.post(
    "/{partner_id}/rotate-secret",
    response_model=PartnerWithSecret,
    responses={**ACTION_ERRORS, **BODY_ERRORS},
    operation_id="partners_rotate_secret",
    response_description="The partner with its new secret (shown this once).",
    summary="Rotate a partner's signing secret",
)
async def rotate_secret(
    partner_id: EntityId, _: Admin, partners: Partners, body: RotateIn | None = None
) -> PartnerWithSecret:
    """A new signing secret, shown once. For `overlap_hours` (24 without a body: an empty POST
    rotates) the old one keeps signing too:
    `webhook-signature` carries both signatures and `X-Hub-Signature-256-Previous` the
    old Meta-style one, so the partner can switch without losing a message. 409 while an
    earlier rotation's overlap runs (only two secrets sign), unless `overlap_hours` is 0: an
    immediate rotation, for a leaked secret, ends every older secret at once.

    **Scope:** `partners:admin`. **Events:** none.
    """
    overlap_hours = (body or RotateIn()).overlap_hours
    return await partners.rotate_secret(partner_id, timedelta(hours=overlap_hours))


@deliveries.get(
    "",
    response_model=DeliveryPage,
    responses=LIST_ERRORS,
    operation_id="deliveries_list",
    response_description="One page of deliveries.",
    summary="List deliveries",
)
async def list_deliveries(
    _: DeliveryReader,
    deliveries: Deliveries,
    alert_id: EntityId | None = None,
    partner_id: EntityId | None = None,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = None,
) -> DeliveryPage:
    """Webhook deliveries, newest first, filtered by alert, partner or status
    (`status=dead`: what exhausted its retries and waits for a replay). `next_cursor` (or
    `next_offset`) pages on; by cursor, deliveries changing state meanwhile shift nothing.

    **Scope:** `deliveries:read`. **Events:** none.
    """
    return await deliveries.page(
        alert_id=alert_id,
        partner_id=partner_id,
        status=status,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )


@deliveries.get(
    "/{delivery_id}",
    response_model=DeliveryOut,
    responses=READ_ERRORS,
    operation_id="deliveries_read",
    response_description="The delivery and its attempts.",
    summary="Read a delivery and its attempts",
)
async def read_delivery(
    delivery_id: EntityId, _: DeliveryReader, deliveries: Deliveries
) -> DeliveryOut:
    """The delivery with every attempt: time, status code, latency, error.

    **Scope:** `deliveries:read`. **Events:** none.
    """
    return await deliveries.get(delivery_id)


@deliveries.post(
    "/{delivery_id}/replay",
    response_model=DeliveryOut,
    responses=ACTION_ERRORS,
    operation_id="deliveries_replay",
    response_description="The delivery, queued again.",
    summary="Replay a delivery",
)
async def replay_delivery(
    delivery_id: EntityId,
    _: DeliveryOps,
    deliveries: Deliveries,
    context: Context,
    link: Link,
    after_commit: BackgroundTasks,
) -> DeliveryOut:
    """Queues a dead (or delivered) delivery again, with the same `webhook-id` so the
    partner deduplicates it. 409 while it is still in progress, when a newer version
    replaces it, or when the alert has expired (only a Cancel is replayed then).

    **Scope:** `deliveries:ops`. **Events:** none (the dispatcher sends it at once).
    """
    # Background tasks run after the transaction commits: the dispatcher finds the row.
    after_commit.add_task(link.wake_dispatcher)
    return await deliveries.replay(
        delivery_id, timedelta(hours=context.settings.cancel_retry_hours)
    )


# What partners receive, documented as OpenAPI 3.1 webhooks (the dispatcher sends them; these
# functions are never called).
webhooks = APIRouter(tags=["webhooks"])

WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="Stable across retries of one message: the partner's idempotency key.",
    ),
]
WebhookTimestamp = Annotated[
    str, Header(alias="webhook-timestamp", description="Unix seconds when this attempt was signed.")
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description="Standard Webhooks: `v1,<base64 HMAC-SHA256>` of "
        "`<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64-decoded bytes "
        "after `whsec_`; one per active secret, space-separated (during a rotation).",
    ),
]
HubSignature = Annotated[
    str,
    Header(
        alias="X-Hub-Signature-256",
        description="Meta-style: `sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the "
        "whole secret string as given.",
    ),
]
HubSignaturePrevious = Annotated[
    str | None,
    Header(
        alias="X-Hub-Signature-256-Previous",
        description="During a secret rotation only: the Meta-style signature with the old secret.",
    ),
]
_RECEIVED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Any 2xx: delivered. A redirect is a failure (never followed); 410 Gone "
        "disables the partner; 429 and 503 are retried after `Retry-After` or the backoff "
        "step, whichever is longer; anything else, and no answer within 10 s, is retried with "
        "backoff until the alert's expiry (a Cancel for days). Apply a version only if its "
        "`alert.sequence` is higher than any applied for that alert."
    }
}
_DELIVERY_RULES = """

Verify a signature on the **raw** body before parsing (both are sent; either is enough),
reject a `webhook-timestamp` more than 5 minutes away, and deduplicate on `webhook-id`: a
retry re-sends the same bytes under the same id. Per alert, versions arrive in order: an
Update never before its Alert (an Alert that never reached you is followed by its next
version sent as `alert.issued`), and nothing after its Cancel. After an expiry, a renewal
made just before the window closed can follow as `alert.issued`: show the alert again."""
_ALERT_WEBHOOKS = {
    "alert.issued": (
        "A new alert",
        "A report was approved: show the alert to the people inside `alert.area` until "
        "`alert.expires`.",
    ),
    "alert.updated": (
        "An alert changed",
        "The zone widened, a trusted sighting moved it, or the window was renewed: replace "
        "what you show with this version (`alert.sequence` grows; `alert.references` lists "
        "the earlier ones).",
    ),
    "alert.cancelled": (
        "An alert is withdrawn",
        "The child was found or the report withdrawn: take the alert down now and delete the "
        "child's data. The message carries no child data.",
    ),
    "alert.expired": (
        "An alert's window ended",
        "The alert reached the end of its window (the `expires` of the versions before) "
        "without renewal: take it down and delete the child's data. Its own `expires`, like "
        "a Cancel's, is later: act on it whatever it says.",
    ),
}


async def _alert_webhook(
    body: WebhookPayload,
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
    hub_signature: HubSignature,
    hub_signature_previous: HubSignaturePrevious = None,
) -> None:
    """Documentation only: the partner implements this endpoint."""


for _name, (_summary, _text) in _ALERT_WEBHOOKS.items():
    webhooks.add_api_route(
        _name,
        _alert_webhook,
        methods=["POST"],
        summary=_summary,
        description=_text + _DELIVERY_RULES,
        responses=_RECEIVED,
        operation_id="webhook_" + _name.replace(".", "_"),
    )


async def _ping_webhook(
    body: PingPayload,
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
    hub_signature: HubSignature,
    hub_signature_previous: HubSignaturePrevious = None,
) -> None:
    """Documentation only: the partner implements this endpoint."""


webhooks.add_api_route(
    "ping",
    _ping_webhook,
    methods=["POST"],
    summary="A test event",
    description="Sent when an operator tests the endpoint (`partners_test`, `tifli partners "
    "test`): signed like every delivery, no alert in it. Answer it 2xx and ignore it; one you "
    "accept also sends at once what waits out a retry back-off for you.",
    responses=_RECEIVED,
    operation_id="webhook_ping",
)


@webhooks.get(
    "partner.verify",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "The challenge, echoed as the whole body.",
            "content": {"text/plain": {"schema": {"type": "string"}, "example": "4344298499"}},
        }
    },
    operation_id="webhook_partner_verify",
    summary="The verification handshake",
)
async def partner_verify(
    mode: Annotated[Literal["subscribe"], Query(alias="hub.mode")],
    challenge: Annotated[
        str, Query(alias="hub.challenge", description="Random digits; echo them as the whole body.")
    ],
    verify_token: Annotated[
        str,
        Query(alias="hub.verify_token", description="The `verify_token` given at registration."),
    ],
) -> str:
    """Meta's subscription check, sent to the webhook URL at registration and on
    `partners_verify`, before any alert: answer 200 with `hub.challenge` as the body if
    `hub.verify_token` is yours. Anything else leaves the partner `unverified`."""
    return challenge
