"""``tifli partners``: list, show, verify, disable and test partners' webhooks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from services.cli.arguments import add_command, add_database_options

if TYPE_CHECKING:  # imported when a command runs: `tifli --help` stays quick
    from sqlalchemy.ext.asyncio import AsyncSession

    from dispatcher.schemas import PartnerOut
    from shared.sealing import Sealer
    from shared.settings import Settings


def register(commands: Any) -> None:
    partners = commands.add_parser(
        "partners",
        help="partner platforms: list, show, verify, disable, test",
        description="Partner platforms and their webhooks.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    actions = [
        add_command(
            partners,
            "list",
            summary="list partners: status, URL, when verified",
            example="tifli partners list",
        )
    ]
    for name, summary, example in (
        ("show", "show a partner: endpoint, languages, coverage, status and why", "show"),
        (
            "verify",
            "run the verification handshake again (after the partner fixed its endpoint)",
            "verify",
        ),
        ("disable", "disable a partner: nothing more is sent to it", "disable"),
        (
            "test",
            "send a signed test event (type 'ping', no child data); print the answer and latency",
            "test",
        ),
    ):
        action = add_command(
            partners,
            name,
            summary=summary,
            example=f"tifli partners {example} 7d1f0c52-9a4b-4e1a-b3c7-2f8e6d5a4c31",
        )
        action.add_argument("partner_id", metavar="ID", help="see 'tifli partners list'")
        actions.append(action)
    for action in actions:
        add_database_options(action)
        action.set_defaults(handler=handle)


def handle(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.database_target import run_on_database

    return run_on_database(settings, init=args.init, work=lambda: _partners(settings, args))


async def _partners(settings: Settings, args: argparse.Namespace) -> int:
    from dispatcher.address_guard import guarded_client
    from services.data_key import data_key
    from shared.db import create_engine, session_factory
    from shared.problems import Problem
    from shared.sealing import Sealer

    sealer = Sealer(data_key(settings))  # partners' secrets and tokens are sealed at rest
    engine = create_engine(settings.database_url)
    client = guarded_client(
        timeout_s=settings.webhook_timeout_s, allow_private=settings.webhook_allow_private
    )
    sessions = session_factory(engine)
    try:
        action: Callable[[], Awaitable[int]] = {
            "list": lambda: _list(sessions, sealer),
            "show": lambda: _show(sessions, sealer, args.partner_id),
            "verify": lambda: _verify(settings, sessions, sealer, client, args.partner_id),
            "disable": lambda: _disable(sessions, sealer, args.partner_id),
            "test": lambda: _test(settings, sessions, sealer, client, args.partner_id),
        }[args.action]
        return await action()
    except Problem as problem:
        print(f"tifli: {problem.detail}", file=sys.stderr)
        return 1
    finally:
        await client.aclose()
        await engine.dispose()


Sessions = Callable[[], "AsyncSession"]


def _now() -> Any:
    from shared.clock import SystemClock

    return SystemClock().now()


async def _list(sessions: Sessions, sealer: Sealer) -> int:
    from dispatcher.partners import PartnerService
    from services.cli.tables import table, when

    found: list[PartnerOut] = []
    async with sessions() as session, session.begin():
        offset: int | None = 0
        while offset is not None:
            page = await PartnerService(session, _now(), sealer).page(limit=200, offset=offset)
            found.extend(page.items)
            offset = page.next_offset
    print(
        table(
            ("ID", "NAME", "STATUS", "VERIFIED", "URL"),
            [(p.id, p.name, p.status, when(p.verified_at), p.url) for p in found],
        )
    )
    return 0


def _describe(partner: PartnerOut) -> str:
    from services.cli.tables import when

    coverage = "everywhere" if partner.coverage is None else f"a {partner.coverage['type']}"
    lines = [
        ("id", partner.id),
        ("name", partner.name),
        ("url", partner.url),
        (
            "status",
            partner.status + (f" ({partner.status_reason})" if partner.status_reason else ""),
        ),
        ("languages", " ".join(partner.languages)),
        ("coverage", coverage),
        ("created", when(partner.created_at)),
        ("verified", when(partner.verified_at)),
        ("old secret signs until", when(partner.secret_rotation_ends)),
        ("paused until", _paused(partner)),
    ]
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in lines)


def _paused(partner: PartnerOut) -> str:
    from services.cli.tables import when

    if partner.paused_until is None:
        return "-"
    return f"{when(partner.paused_until)} (it answered {partner.paused_by} with Retry-After)"


async def _show(sessions: Sessions, sealer: Sealer, partner_id: str) -> int:
    from dispatcher.partners import PartnerService

    async with sessions() as session, session.begin():
        partner = await PartnerService(session, _now(), sealer).read(partner_id)
    print(_describe(partner))
    return 0


async def _verify(
    settings: Settings, sessions: Sessions, sealer: Sealer, client: Any, partner_id: str
) -> int:
    from dispatcher.partners import PartnerService
    from dispatcher.sender import verification_handshake

    # As the API does: the handshake runs outside any transaction.
    async with sessions() as session, session.begin():
        service = PartnerService(session, _now(), sealer)
        partner = await service.load(partner_id)
        url, token = partner.url, service.verify_token(partner)
    print(f"handshake with {url} …", flush=True)
    failure = await verification_handshake(client, url, token, within_s=settings.webhook_timeout_s)
    async with sessions() as session, session.begin():
        cancel_retry = timedelta(hours=settings.cancel_retry_hours)
        after = await PartnerService(session, _now(), sealer).record_handshake(
            partner_id, failure, cancel_retry=cancel_retry
        )
    print(f"partner {after.id} is {after.status}" + (f": {failure}" if failure else ""))
    return 0 if failure is None else 1


async def _disable(sessions: Sessions, sealer: Sealer, partner_id: str) -> int:
    from dispatcher.partners import PartnerService

    async with sessions() as session, session.begin():
        service = PartnerService(session, _now(), sealer)
        after = await service.disable(partner_id, "disabled by an operator")
    print(f"partner {after.id} ({after.name}) disabled: nothing more is sent to it")
    return 0


async def _test(
    settings: Settings, sessions: Sessions, sealer: Sealer, client: Any, partner_id: str
) -> int:
    from dispatcher.partners import PartnerService
    from dispatcher.ping import send_ping

    now = _now()
    async with sessions() as session, session.begin():
        partner = await PartnerService(session, now, sealer).load(partner_id)
        session.expunge(partner)
    if partner.status != "active":
        print(
            f"tifli: partner {partner_id} is {partner.status}: only an active partner gets "
            "events ('tifli partners verify' runs the handshake again)",
            file=sys.stderr,
        )
        return 1
    print(f"sending a signed test event to {partner.url} …", flush=True)
    result = await send_ping(client, partner, now, sealer, within_s=settings.webhook_timeout_s)
    answer = f"HTTP {result.status_code}" if result.status_code is not None else "no answer"
    print(f"{answer} in {result.latency_ms:.1f} ms (webhook-id {result.webhook_id})")
    if not result.delivered:
        print(f"tifli: not delivered: {result.error}", file=sys.stderr)
        return 1
    async with sessions() as session, session.begin():
        await PartnerService(session, _now(), sealer).answered_test(partner_id)
    return 0
