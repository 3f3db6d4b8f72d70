"""Widening, renewal and expiry over simulated time, with an engine restart in the middle."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, select, text

from alert_engine import composer as composer_module
from alert_engine import service as service_module
from alert_engine.composer import clipped_zone
from alert_engine.models import Alert, AlertVersion
from alert_engine.timers import AlertTimerFailed, AlertTimers
from dispatcher.models import Delivery
from services.components import engine_config
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.production import cap_signing_env, fresh_database
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import FakeClock, Stack, embedded_settings, start_stack
from shared.db import create_engine, session_factory
from shared.events import ReportClosedData, ReportRenewed, ReportRenewedData, ReportResolved
from shared.outbox import add_event
from shared.sealing import Sealer
from shared.settings import Settings
from tests.waiting import eventually

HOUR = timedelta(hours=1)


async def _versions(partner: PartnerEndpoint, count: int) -> list[dict[str, Any]]:
    received = await partner.wait_for(count)
    return [json.loads(r.body) for r in received]


async def _settled(stack: Stack) -> None:
    """Every delivery's outcome is recorded. Leases are measured on the same simulated clock,
    so jumping it while a POST is in flight would (rightly) hand that delivery over again."""

    await eventually(lambda: _rows(stack, Delivery, Delivery.status == "sending"), lambda n: n == 0)


async def _run_timers(stack: Stack) -> int:
    assert stack.embedded.timers is not None
    handled = await stack.embedded.timers.run_due()
    await stack.bus.wait_idle()
    return handled


def _on_a_driven_clock(tmp_path: Path) -> tuple[FakeClock, Settings, dict[str, Any]]:
    """A simulated clock at now, settings with a window of 24 h, and a case by vehicle last
    seen half an hour before. The test drives the timers itself, deterministically: start its
    stack without the timer loop (``start_stack(..., timer_loop=False)``)."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    settings = embedded_settings(tmp_path, alert_ttl_hours=24)
    body = report_body(travel_mode="vehicle")
    body["last_seen"]["at"] = (clock.now() - timedelta(minutes=30)).isoformat()
    return clock, settings, body


async def test_zone_widens_renews_and_expires_across_a_restart(tmp_path: Path) -> None:
    clock, settings, body = _on_a_driven_clock(tmp_path)
    start = clock.now()

    async with partner_endpoint() as partner:
        stack, server = await start_stack(settings, clock, timer_loop=False)
        try:
            await stack.register_partner(partner)
            async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
                report_id = (await police.post("/v1/reports", json=body)).json()["id"]
                await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            [issued] = await _versions(partner, 1)
            assert issued["alert"]["area"]["circle"]["radius_km"] == 160.0  # the floor
            assert issued["alert"]["expires"].startswith(
                (start + 24 * HOUR).isoformat().replace("+00:00", "")
            )

            await _settled(stack)
            clock.advance(HOUR)  # 1.5 h at 80 km/h = 120 km: still the floor, no message
            assert await _run_timers(stack) == 1
            assert len(partner.received) == 1

            await _settled(stack)
            clock.advance(2 * HOUR)  # 3.5 h: 280 km, the area triples: an Update
            assert await _run_timers(stack) == 1
            update = (await _versions(partner, 2))[1]
            assert update["type"] == "alert.updated"
            assert update["alert"]["msg_type"] == "Update"
            assert update["alert"]["sequence"] == 2
            assert update["alert"]["area"]["circle"]["radius_km"] == 280.0
            assert issued["alert"]["identifier"] in update["alert"]["references"][0]
            # The earlier version's time as its own JSON wrote it: a partner can match them.
            assert update["alert"]["references"][0].endswith("," + issued["alert"]["sent"])
            assert await _run_timers(stack) == 0  # nothing more is due right now
            await _settled(stack)
        finally:
            await server.__aexit__(None, None, None)

        # The engine is down while three widenings come due; a new process catches up once.
        clock.advance(3 * HOUR)  # 6.5 h: 520 km
        stack, server = await start_stack(settings, clock)
        try:
            # The new engine's first timer pass, at start-up, finds the overdue widening.
            caught_up = (await _versions(partner, 3))[2]
            await stack.embedded.end_timer_loop()  # from here on the test drives the timers
            assert await _run_timers(stack) == 0  # and it was handled once
            assert caught_up["alert"]["sequence"] == 3
            assert caught_up["alert"]["area"]["circle"]["radius_km"] == 520.0

            # A reviewer renews at 6 h: a fresh 24 h window, sent at once as an Update.
            await _settled(stack)
            async with stack.client("reviewer") as reviewer:
                renewed = await reviewer.post(f"/v1/reports/{report_id}/renew", json={})
                assert renewed.status_code == 200, renewed.text
                assert renewed.json()["expires_at"].startswith(
                    (start + 30 * HOUR).isoformat().replace("+00:00", "")
                )
            update = (await _versions(partner, 4))[3]
            assert update["alert"]["msg_type"] == "Update"
            assert update["alert"]["expires"].startswith(
                (start + 30 * HOUR).isoformat().replace("+00:00", "")
            )

            await _settled(stack)
            clock.advance(18 * HOUR)  # 24 h: the old window's end passes quietly ...
            assert await _run_timers(stack) == 1  # ... only the (overdue) widening is due
            assert (await _versions(partner, 5))[4]["type"] == "alert.updated"

            await _settled(stack)
            clock.advance(6 * HOUR)  # 30 h: the renewed window ends
            assert await _run_timers(stack) == 1
            expired = (await _versions(partner, 6))[5]
            assert expired["type"] == "alert.expired"
            assert expired["alert"]["msg_type"] == "Cancel"
            assert expired["alert"]["child"] is None
            assert len(expired["alert"]["references"]) == 5
            async with stack.client("reviewer") as reviewer:
                report = (await reviewer.get(f"/v1/reports/{report_id}")).json()
                assert report["status"] == "expired"
                late = await reviewer.post(f"/v1/reports/{report_id}/renew", json={})
                assert late.status_code == 409  # too late to renew: a new report is needed
            await _settled(stack)
            clock.advance(HOUR)
            assert await _run_timers(stack) == 0  # an expired alert has no more timers
            assert len(partner.received) == 6
        finally:
            await server.__aexit__(None, None, None)


async def test_an_alert_whose_timer_fails_holds_back_no_other(tmp_path: Path) -> None:
    """One due alert that cannot be handled, pass after pass (here its row cannot be read; a
    zone that cannot be computed fails alike), came first in every pass and stopped every
    alert behind it widening and expiring. Now the others are handled, its widening is put
    off an interval, and the pass fails with the cause: supervision logs and counts it."""
    clock, settings, body = _on_a_driven_clock(tmp_path)
    async with partner_endpoint() as partner:
        stack, server = await start_stack(settings, clock, timer_loop=False)
        try:
            await stack.register_partner(partner)
            report_ids = []
            async with stack.clients("submitter", "reviewer") as (police, reviewer):
                for _ in range(2):
                    report_id = (await police.post("/v1/reports", json=body)).json()["id"]
                    await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
                    report_ids.append(report_id)
                    clock.advance(timedelta(minutes=1))  # the first expires first: first due
            await _versions(partner, 2)
            await _settled(stack)
            broken, sound = report_ids
            async with stack.embedded.sessions() as session, session.begin():
                await session.execute(
                    text("UPDATE alerts SET locations = '[{}]' WHERE report_id = :id"),
                    {"id": broken},
                )

            clock.advance(3 * HOUR)  # 3.5 h at 80 km/h: both zones have grown enough to widen
            assert stack.embedded.timers is not None
            with pytest.raises(AlertTimerFailed) as failed:
                await stack.embedded.timers.run_due()
            assert isinstance(failed.value.__cause__, ValidationError)
            await stack.bus.wait_idle()
            widened = (await _versions(partner, 3))[2]
            assert (widened["type"], widened["alert"]["report_id"]) == ("alert.updated", sound)
            async with stack.embedded.sessions() as session:
                put_off = await session.scalar(
                    select(Alert.next_widen_at).where(Alert.report_id == broken)
                )
            assert put_off == clock.now() + HOUR
            assert await _run_timers(stack) == 0  # nothing else is due: the pass succeeds
        finally:
            await server.__aexit__(None, None, None)


async def test_a_widening_whose_zone_cannot_be_drawn_tries_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawn before its transaction, a zone that fails is not drawn (and failed) again in the
    transaction: the fault is raised there, the pass fails with it, the widening is put off."""
    clock, settings, body = _on_a_driven_clock(tmp_path)
    stack, server = await start_stack(settings, clock, timer_loop=False)
    try:
        [report_id] = await _issued(stack, [body])
        tries: list[bool] = []

        def failing(pieces: Any, policy: Any) -> Any:
            tries.append(True)
            raise RuntimeError("this zone cannot be drawn")

        monkeypatch.setattr(composer_module, "clipped_zone", failing)
        monkeypatch.setattr(service_module, "clipped_zone", failing)
        clock.advance(3 * HOUR)  # 3.5 h at 80 km/h: the zone has grown enough to widen
        assert stack.embedded.timers is not None
        with pytest.raises(AlertTimerFailed) as failed:
            await stack.embedded.timers.run_due()
        assert str(failed.value.__cause__) == "this zone cannot be drawn"
        assert tries == [True]
        async with stack.embedded.sessions() as session:
            put_off = await session.scalar(
                select(Alert.next_widen_at).where(Alert.report_id == report_id)
            )
        assert put_off == clock.now() + HOUR
    finally:
        await server.__aexit__(None, None, None)


async def test_a_renewal_that_loses_the_race_with_expiry_revives_the_alert(
    tmp_path: Path,
) -> None:
    """Intake accepted the renewal just before the window closed; the engine's expiry timer
    ran first. The case runs on at intake, so the alert must be brought back, not dropped."""
    async with _expired_case(tmp_path) as (stack, partner, report_id, start, _):
        # Then the renewal that intake accepted a second before the end reaches the engine
        # (staged as intake's outbox would have it; the HTTP path cannot lose this race).
        await _renewed_just_before_the_end(stack, report_id, start)
        revived = (await _versions(partner, 3))[2]
        assert revived["type"] == "alert.issued"
        assert revived["alert"]["msg_type"] == "Alert"
        assert revived["alert"]["expires"].startswith(
            (start + 48 * HOUR).isoformat().replace("+00:00", "")
        )


async def test_a_renewal_coming_back_after_the_child_was_found_revives_nothing(
    tmp_path: Path,
) -> None:
    """As above, but the renewal failed and was parked on the dead-letter topic, and the child
    was found before it was sent again (``tifli events redrive``): nothing comes back up."""
    async with _expired_case(tmp_path) as (stack, partner, report_id, start, _):
        async with stack.client("submitter") as police:
            resolved = await police.post(f"/v1/reports/{report_id}/resolve", json={})
            assert resolved.status_code == 200, resolved.text
        await stack.quiet()
        await _renewed_just_before_the_end(stack, report_id, start)
        assert await _sent_once_quiet(stack, partner) == ["alert.issued", "alert.expired"]


async def test_a_renewal_coming_back_after_its_own_window_ended_revives_nothing(
    tmp_path: Path,
) -> None:
    """A renewal parked on the dead-letter topic and sent again once the window it asked for
    is over too: bringing the alert back would send an Alert already expired."""
    async with _expired_case(tmp_path) as (stack, partner, report_id, start, clock):
        clock.advance(24 * HOUR)  # 48 h on: the renewed window has ended as well
        await _renewed_just_before_the_end(stack, report_id, start)
        assert await _sent_once_quiet(stack, partner) == ["alert.issued", "alert.expired"]


async def _sent_once_quiet(stack: Stack, partner: PartnerEndpoint) -> list[str]:
    """What the partner received once every event so far is handled (the engine's, then the
    dispatcher's) and every delivery made: the events' types."""
    await stack.quiet()
    await eventually(lambda: _owed(stack), lambda n: n == 0)
    return [json.loads(r.body)["type"] for r in partner.received]


async def _rows(stack: Stack, entity: Any, condition: ColumnElement[bool]) -> int:
    async with stack.embedded.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(entity).where(condition))
    return int(count or 0)


async def _issued(stack: Stack, bodies: list[dict[str, Any]]) -> list[str]:
    """A case submitted and approved for each body, once its alert is issued: their ids."""
    async with stack.clients("submitter", "reviewer") as (police, reviewer):
        report_ids = [(await police.post("/v1/reports", json=b)).json()["id"] for b in bodies]
        for report_id in report_ids:
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
    versions = AlertVersion.sequence >= 1
    await eventually(lambda: _rows(stack, AlertVersion, versions), lambda n: n == len(bodies))
    return report_ids


async def _owed(stack: Stack) -> int:
    """Deliveries not yet made (waiting or in flight)."""
    return await _rows(stack, Delivery, Delivery.status.in_(("pending", "sending")))


@asynccontextmanager
async def _expired_case(
    tmp_path: Path,
) -> AsyncIterator[tuple[Stack, PartnerEndpoint, str, datetime, FakeClock]]:
    """A stack and its partner, and a case approved at ``start`` whose alert the expiry timer
    took down 24 h on (the stack's window): (stack, partner, the case's id, start, clock)."""
    start = datetime.now(UTC).replace(microsecond=0)
    clock = FakeClock(start)
    settings = embedded_settings(tmp_path, alert_ttl_hours=24)
    async with partner_endpoint() as partner:
        stack, server = await start_stack(settings, clock, timer_loop=False)
        try:
            await stack.register_partner(partner)
            async with stack.clients("submitter", "reviewer") as (police, reviewer):
                created = await police.post("/v1/reports", json=report_body())
                report_id: str = created.json()["id"]
                await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            await _versions(partner, 1)
            await _settled(stack)
            clock.advance(24 * HOUR + timedelta(seconds=1))  # the timer fires first
            assert await _run_timers(stack) == 1
            assert (await _versions(partner, 2))[1]["type"] == "alert.expired"
            # Its outcome recorded too: a test that jumps the clock next must not find the
            # Cancel's delivery still under a lease, and (rightly) send it again.
            await _settled(stack)
            yield stack, partner, report_id, start, clock
        finally:
            await server.__aexit__(None, None, None)


async def _renewed_just_before_the_end(stack: Stack, report_id: str, start: datetime) -> None:
    """The renewal of the case approved at ``start``, accepted a second before its 24 h window
    ended, reaching the engine now."""
    async with stack.embedded.sessions() as session, session.begin():
        await add_event(session, _renewal_just_before_the_end(report_id, start))


def _renewal_just_before_the_end(report_id: str, start: datetime) -> ReportRenewed:
    at = start + 24 * HOUR - timedelta(seconds=1)
    data = ReportRenewedData(report_id=report_id, renewed_at=at, expires_at=start + 48 * HOUR)
    return ReportRenewed(source="test", subject=report_id, time=at, data=data)


async def test_a_renewal_with_the_resolution_right_behind_it_revives_nothing(
    tmp_path: Path,
) -> None:
    """The engine was away while the reviewer renewed just before the end and the child was
    found ten minutes after it: both arrive together, once the expiry timer took the alert
    down. Revived, the alert would show partners a found child until the Cancel behind it."""
    async with _expired_case(tmp_path) as (stack, partner, report_id, start, _):
        found_at = start + 24 * HOUR + timedelta(minutes=10)
        found = ReportClosedData(report_id=report_id, closed_at=found_at)
        async with stack.embedded.sessions() as session, session.begin():
            await add_event(session, _renewal_just_before_the_end(report_id, start))
            await add_event(
                session, ReportResolved(source="test", subject=report_id, time=found_at, data=found)
            )
        assert await _sent_once_quiet(stack, partner) == ["alert.issued", "alert.expired"]


async def test_engines_sharing_the_timers_draw_each_widening_once(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two engines' timers on one PostgreSQL, six widenings due: each engine claims an alert
    by locking it before it draws its zone, so the two share the work rather than both
    drawing every zone (and throwing half away)."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    database = await fresh_database(postgres_url)
    cap = cap_signing_env()
    settings = embedded_settings(
        tmp_path,
        database_url=database,
        cap_signing_key=cap["TIFLI_CAP_SIGNING_KEY"],
        cap_signing_certificate=cap["TIFLI_CAP_SIGNING_CERTIFICATE"],
        data_key=Sealer.new_key(),
    )
    stack, server = await start_stack(settings, clock, timer_loop=False)
    other = create_engine(database)
    try:
        body = report_body(travel_mode="vehicle")
        body["last_seen"]["at"] = (clock.now() - timedelta(minutes=30)).isoformat()
        await _issued(stack, [body] * 6)
        drawn: list[bool] = []

        def drawing(pieces: Any, policy: Any) -> Any:
            drawn.append(True)
            return clipped_zone(pieces, policy)

        monkeypatch.setattr(composer_module, "clipped_zone", drawing)
        monkeypatch.setattr(service_module, "clipped_zone", drawing)
        clock.advance(3 * HOUR)  # 3.5 h at 80 km/h: every zone has grown enough to widen
        assert stack.embedded.timers is not None
        second = AlertTimers(
            session_factory(other), engine_config(settings), clock, poll_interval_s=3600
        )
        handled = await asyncio.gather(stack.embedded.timers.run_due(), second.run_due())
        assert sum(handled) == 6
        assert len(drawn) == 6
        versions = AlertVersion.sequence >= 1
        await eventually(lambda: _rows(stack, AlertVersion, versions), lambda n: n == 12)
    finally:
        await other.dispose()
        await server.__aexit__(None, None, None)
