"""``tifli events unfinished|redrive``: approvals the engine could not process (parked on the
dead-letter topic) are listed and sent again once the fault is fixed; the alert goes up for
the case still open, and none for the child found in the meantime."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from sqlalchemy import func, select, text

from alert_engine.consumer import GROUP as ENGINE_GROUP
from alert_engine.models import Alert, EarlyChange
from services.components import CONSUMERS
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import FakeClock, Stack, embedded_settings, start_stack
from shared.auth import create_api_key
from shared.db import create_engine, session_factory
from shared.outbox import OutboxEvent
from shared.unfinished_events import requeue_unfinished
from tests.flows import engine_processed
from tests.services.cli_runner import tifli
from tests.waiting import eventually

# The engine's inserts into ``alerts`` fail, as a fault in building an alert would: each
# approval fails its attempts and is parked on the dead-letter topic.
REFUSE_ALERTS = (
    "CREATE TRIGGER refuse_alerts BEFORE INSERT ON alerts "
    "BEGIN SELECT RAISE(ABORT, 'alerts refused'); END"
)


async def _execute(stack: Stack, statement: str) -> None:
    async with stack.embedded.sessions() as session, session.begin():
        await session.execute(text(statement))


async def _alerts_of(stack: Stack, report_id: str) -> int:
    async with stack.embedded.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Alert).where(Alert.report_id == report_id)
        )
    return int(count or 0)


async def _early_changes_of(stack: Stack, report_id: str) -> int:
    async with stack.embedded.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(EarlyChange).where(EarlyChange.report_id == report_id)
        )
    return int(count or 0)


async def test_dead_lettered_approvals_are_redriven_and_a_found_child_stays_down(
    tmp_path: Path,
) -> None:
    async with _stack_with(tmp_path, REFUSE_ALERTS) as (stack, partner, url):
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            found, still_missing = [
                (await police.post("/v1/reports", json=report_body())).json()["id"]
                for _ in range(2)
            ]
            for report_id in (found, still_missing):
                approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
                assert approved.status_code == 200, approved.text
            await stack.quiet()  # both approvals failed twice: dead-lettered

            listed = await tifli(url, "events", "unfinished")
            assert listed.returncode == 0, listed.stderr
            header, *rows = listed.stdout.splitlines()
            assert header.split()[:3] == ["EVENT", "ID", "PUBLISHED"]
            assert sorted((row.split()[-3], row.split()[-1]) for row in rows) == sorted(
                ("report.approved", report_id) for report_id in (found, still_missing)
            )
            assert all(row.split()[-2] == ENGINE_GROUP for row in rows)

            # The first child's description is put right, then the child is found, before
            # the fault is fixed: the correction kept for the approval goes with the case.
            before = await engine_processed(stack)
            patch = {"child": {"clothing": "Robe rouge"}}
            corrected = await reviewer.patch(f"/v1/reports/{found}", json=patch)
            assert corrected.status_code == 200, corrected.text
            await eventually(lambda: engine_processed(stack), lambda n: n == before + 1)
            assert await _early_changes_of(stack, found) == 1
            resolved = await police.post(f"/v1/reports/{found}/resolve", json={})
            assert resolved.status_code == 200, resolved.text
            await eventually(lambda: engine_processed(stack), lambda n: n == before + 2)
            assert await _early_changes_of(stack, found) == 0

        await _execute(stack, "DROP TRIGGER refuse_alerts")
        before = await engine_processed(stack)
        redriven = await tifli(url, "events", "redrive")
        assert redriven.returncode == 0, redriven.stderr
        assert redriven.stdout.strip() == "2 events sent again"

        # Both approvals come back (the relay polls the outbox): the open case's alert
        # reaches the partner; the found child's approval puts nothing up.
        await eventually(lambda: engine_processed(stack), lambda n: n == before + 2)
        [issued] = await partner.wait_for(1)
        body = json.loads(issued.body)
        assert (body["type"], body["alert"]["report_id"]) == ("alert.issued", still_missing)
        await stack.quiet()
        assert await _alerts_of(stack, found) == 0
        assert await _alerts_of(stack, still_missing) == 1
        assert len(partner.received) == 1

        nothing = await tifli(url, "events", "unfinished")
        assert nothing.stdout.strip() == (
            "every published event was finished by every consumer group"
        )


async def test_an_approval_redriven_after_its_window_closed_puts_no_alert_up(
    tmp_path: Path,
) -> None:
    async with _stack_with(tmp_path, REFUSE_ALERTS) as (stack, partner, url):
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            window_ends = datetime.fromisoformat(approved.json()["expires_at"])
            await stack.quiet()  # the approval failed twice: parked
        await _execute(stack, "DROP TRIGGER refuse_alerts")
        assert isinstance(stack.embedded.clock, FakeClock)
        stack.embedded.clock.moment = window_ends  # the fault took a day to fix
        before = await engine_processed(stack)
        redriven = await tifli(url, "events", "redrive")
        assert redriven.stdout.strip() == "1 event sent again", redriven.stderr
        await eventually(lambda: engine_processed(stack), lambda n: n == before + 1)
        await stack.quiet()
        assert partner.received == []  # not the child's alert, nor its take-down
        async with stack.client("reader") as reader:
            shown = await reader.get(f"/v1/alerts/{approved.json()['alert_id']}")
            assert shown.status_code == 404, shown.text
            assert (await reader.get("/v1/alerts")).json()["items"] == []


async def test_an_approval_redriven_after_its_first_window_goes_up_in_the_renewed_one(
    tmp_path: Path,
) -> None:
    """Renewed while its approval was parked: the renewal found no alert. Sent again after the
    window it was approved with, but within the renewed one, the approval puts the alert up
    until the renewed end, as intake shows the case."""
    async with _stack_with(tmp_path, REFUSE_ALERTS) as (stack, partner, url):
        report_id, renewed_window_ends = await _parked_then_renewed(stack)
        await _execute(stack, "DROP TRIGGER refuse_alerts")
        redriven = await tifli(url, "events", "redrive")
        assert redriven.stdout.strip() == "1 event sent again", redriven.stderr
        await _issued_until(partner, report_id, renewed_window_ends)
        assert await _alerts_of(stack, report_id) == 1


NEW_PHOTO = "https://photos.police.example.ma/cases/amina-2.jpg"
MARRAKECH = {"lat": 31.6295, "lon": -7.9811}


async def test_what_the_unit_did_while_the_approval_was_parked_goes_up_with_it(
    tmp_path: Path,
) -> None:
    """Corrected and sighted while its approval was parked: neither found an alert. Sent
    again, the approval puts the alert up as the case now stands, not as it was approved."""
    async with _stack_with(tmp_path, REFUSE_ALERTS) as (stack, partner, url):
        clock = stack.embedded.clock
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            await stack.quiet()  # the approval failed twice: parked
            patch = {"child": {"photo_urls": [NEW_PHOTO], "clothing": "Robe rouge, cartable"}}
            corrected = await reviewer.patch(f"/v1/reports/{report_id}", json=patch)
            assert corrected.status_code == 200, corrected.text
            seen = {"location": MARRAKECH, "at": clock.now().isoformat(), "trusted": True}
            sighted = await police.post(f"/v1/reports/{report_id}/sightings", json=seen)
            assert sighted.status_code == 201, sighted.text
            await stack.quiet()
        await _execute(stack, "DROP TRIGGER refuse_alerts")
        redriven = await tifli(url, "events", "redrive")
        assert redriven.stdout.strip() == "1 event sent again", redriven.stderr
        [issued] = await partner.wait_for(1)
    alert = json.loads(issued.body)["alert"]
    assert (alert["msg_type"], alert["sequence"]) == ("Alert", 1)
    assert alert["photo_urls"] == [NEW_PHOTO]
    assert alert["child"]["clothing"] == "Robe rouge, cartable"
    # The child was seen in Marrakech since: the zone is drawn around there too.
    assert alert["last_seen"]["point"] == MARRAKECH
    zone = shapely.geometry.shape(alert["area"]["geojson"])
    assert zone.contains(shapely.Point(MARRAKECH["lon"], MARRAKECH["lat"]))
    assert zone.contains(shapely.Point(-7.6327, 33.5883))  # Casablanca, where it began
    async with stack.embedded.sessions() as session:
        assert (await session.scalars(select(EarlyChange))).all() == []  # used up


async def _parked_then_renewed(stack: Stack) -> tuple[str, datetime]:
    """A case approved (its approval parked: ``REFUSE_ALERTS``), its clothing corrected
    (``CORRECTED``) and the child seen in Marrakech two hours before its window ends, renewed
    by 48 h an hour before (by another reviewer: whoever wrote what goes out does not renew
    it), then the clock set two hours past that first end: (case, renewed end)."""
    assert isinstance(stack.embedded.clock, FakeClock)
    clock = stack.embedded.clock
    async with stack.embedded.sessions() as session, session.begin():
        scopes = ["reports:review", "reports:read"]
        stack.keys["renewer"] = await create_api_key(session, "renewer", scopes, clock.now())
    async with stack.clients("submitter", "reviewer", "renewer") as (police, reviewer, renewer):
        report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
        first_window_ends = datetime.fromisoformat(approved.json()["expires_at"])
        await stack.quiet()  # the approval failed twice: parked
        clock.moment = first_window_ends - timedelta(hours=2)
        patch = {"child": {"clothing": CORRECTED}}
        corrected = await reviewer.patch(f"/v1/reports/{report_id}", json=patch)
        assert corrected.status_code == 200, corrected.text
        # Seen now (intake checks "not in the future" on the wall clock, this one's past).
        seen = {"location": MARRAKECH, "at": datetime.now(UTC).isoformat(), "trusted": True}
        sighted = await police.post(f"/v1/reports/{report_id}/sightings", json=seen)
        assert sighted.status_code == 201, sighted.text
        await stack.quiet()
        clock.moment = first_window_ends - timedelta(hours=1)
        renewed = await renewer.post(f"/v1/reports/{report_id}/renew", json={"ttl_hours": 48})
        assert renewed.status_code == 200, renewed.text
        await stack.quiet()
    clock.moment = first_window_ends + timedelta(hours=2)
    return report_id, datetime.fromisoformat(renewed.json()["expires_at"])


async def _issued_until(partner: PartnerEndpoint, report_id: str, expires: datetime) -> None:
    """The partner got the case's alert as it stands, running until ``expires``."""
    [issued] = await partner.wait_for(1)
    alert = json.loads(issued.body)["alert"]
    assert (alert["report_id"], datetime.fromisoformat(alert["expires"])) == (report_id, expires)
    assert alert["child"]["clothing"] == CORRECTED
    assert alert["last_seen"]["point"] == MARRAKECH


CORRECTED = "Robe rouge, cartable"


# A renewal or a correction that finds no alert is kept for the approval (``EarlyRenewal``,
# ``EarlyChange``): refused too, it is parked beside it.
REFUSE_EARLY_RENEWALS = (
    "CREATE TRIGGER refuse_early_renewals BEFORE INSERT ON early_renewals "
    "BEGIN SELECT RAISE(ABORT, 'early renewals refused'); END"
)
REFUSE_EARLY_CHANGES = (
    "CREATE TRIGGER refuse_early_changes BEFORE INSERT ON early_changes "
    "BEGIN SELECT RAISE(ABORT, 'early changes refused'); END"
)


async def test_an_approval_handled_after_its_window_then_its_renewal_puts_the_alert_up(
    tmp_path: Path,
) -> None:
    """All four parked, then sent again in their order after the first window: the approval
    comes too late for its own window (the alert is kept, expired, unpublished), the
    correction and the sighting change what it would show, and the renewal, accepted within
    the window, brings it up as the case stands."""
    async with _stack_with(tmp_path, REFUSE_ALERTS) as (stack, partner, _):
        await _execute(stack, REFUSE_EARLY_RENEWALS)  # the renewal is parked too
        await _execute(stack, REFUSE_EARLY_CHANGES)  # and the correction and the sighting
        report_id, renewed_window_ends = await _parked_then_renewed(stack)
        await _execute(stack, "DROP TRIGGER refuse_alerts")
        await _execute(stack, "DROP TRIGGER refuse_early_renewals")
        await _execute(stack, "DROP TRIGGER refuse_early_changes")
        # What ``tifli events redrive`` does (its cut-off reads the wall clock, which this
        # stack's clock has run past).
        async with stack.embedded.sessions() as session, session.begin():
            week_before = stack.embedded.clock.now() - timedelta(days=7)
            assert await requeue_unfinished(session, CONSUMERS, week_before) == 4
        await _issued_until(partner, report_id, renewed_window_ends)


# The dispatcher's record of a live alert cannot be written: an alert's first version fails
# there and is parked, while its take-down (recorded without the alert) goes through.
REFUSE_LIVE_ALERTS = (
    "CREATE TRIGGER refuse_live_alerts BEFORE INSERT ON known_alerts "
    "WHEN NEW.event IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused'); END"
)


async def test_an_alert_sent_again_after_its_take_down_reaches_no_partner(tmp_path: Path) -> None:
    async with _stack_with(tmp_path, REFUSE_LIVE_ALERTS) as (stack, partner, url):
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            await stack.quiet()  # the Alert failed twice at the dispatcher: parked
            resolved = await police.post(f"/v1/reports/{report_id}/resolve", json={})
            assert resolved.status_code == 200, resolved.text
            await stack.quiet()  # the Cancel: no partner had the alert
        await _execute(stack, "DROP TRIGGER refuse_live_alerts")
        listed = await tifli(url, "events", "unfinished")
        [parked] = listed.stdout.splitlines()[1:]
        assert parked.split()[-3:-1] == ["alert.issued", "dispatcher"]

        redriven = await tifli(url, "events", "redrive")
        assert redriven.stdout.strip() == "1 event sent again"
        nothing = "every published event was finished by every consumer group"
        await eventually(
            lambda: tifli(url, "events", "unfinished"),
            lambda done: done.stdout.strip() == nothing,
        )
        await stack.quiet()
        assert partner.received == []  # the child was found: no alert, ever
        assert await stack.deliveries() == []


@asynccontextmanager
async def _stack_with(
    tmp_path: Path, fault: str, behind: timedelta = timedelta(minutes=10)
) -> AsyncIterator[tuple[Stack, PartnerEndpoint, str]]:
    """An embedded stack with its partner registered, where ``fault`` (a SQLite trigger) makes
    a handler fail, and an event is parked after two tries: (stack, partner, database URL).
    Its clock runs ten minutes behind, so what it publishes is older than the commands'
    default cut-off (a minute, for events still on their way)."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - behind)
    settings = embedded_settings(tmp_path, bus_max_attempts=2)
    async with partner_endpoint() as partner:
        stack, server = await start_stack(settings, clock)
        try:
            await stack.register_partner(partner)
            await _execute(stack, fault)
            yield stack, partner, settings.database_url
        finally:
            await server.__aexit__(None, None, None)


async def test_an_event_parked_a_moment_ago_is_not_said_finished(tmp_path: Path) -> None:
    """An operator alerted to a dead-lettered event looks at once: younger than the cut-off,
    it was left out, and the listing said every event was finished. It is now counted."""
    async with _stack_with(tmp_path, REFUSE_ALERTS, behind=timedelta(0)) as (stack, _, url):
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            report_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
            await stack.quiet()  # the approval failed twice: parked, a moment ago
        for action, first in (("unfinished", None), ("redrive", "nothing to send again")):
            said = await tifli(url, "events", action)
            assert said.returncode == 0, said.stderr
            *lines, young = said.stdout.splitlines()
            assert lines == ([first] if first else [])
            assert young.startswith("1 event was published since ")
            assert "not yet finished" in young


async def test_events_no_relay_has_published_are_said(tmp_path: Path) -> None:
    """With no relay running, a resolution waits in the outbox: no consumer has seen it, so
    none left it unfinished, and the listing said every event was finished. What waits
    longer than the cut-off is now said first, with what to run."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tifli.db'}"
    assert (await tifli(url, "events", "unfinished", "--init")).returncode == 0
    engine = create_engine(url)
    written = datetime.now(UTC) - timedelta(minutes=10)
    async with session_factory(engine)() as session, session.begin():
        for age in (timedelta(0), timedelta(minutes=9, seconds=30)):  # one still on its way
            session.add(
                OutboxEvent(
                    event_id=str(uuid.uuid4()),
                    topic="tifli.reports",
                    key="a-case",
                    event_type="report.resolved",
                    payload="{}",
                    created_at=written + age,
                )
            )
    await engine.dispose()
    listed = await tifli(url, "events", "unfinished")
    assert listed.returncode == 0, listed.stderr
    backlog, nothing = listed.stdout.splitlines()
    assert backlog.startswith("1 event not yet published, the oldest written ")
    assert backlog.endswith("is a relay running ('tifli run relay')?")
    assert nothing == "every published event was finished by every consumer group"
