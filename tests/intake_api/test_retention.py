"""Retention over simulated time: an ended case's personal data is erased
``TIFLI_RETENTION_DAYS`` after it ended and not before; an open case never is; the erased
case reads as erased; the audit keeps what happened, without personal data. An operator can
erase an ended case at once (national keys only)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlalchemy import func, insert, select, text

from dispatcher.models import Delivery
from intake_api.audit_log import verify as verify_audit_chain
from intake_api.models import AuditEntry, IdempotencyRecord, Report, Sighting
from intake_api.retention import RetentionTimer
from intake_api.schemas import ReportIn
from intake_api.service import request_fingerprint
from services.database import upgrade
from services.testbed.backing_servers import ROOT
from services.testbed.partner import partner_endpoint
from services.testbed.production import fresh_database
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import FakeClock, Stack, embedded_settings, start_stack
from shared.auth import add_unit, create_api_key
from shared.clock import SystemClock
from shared.db import create_engine, session_factory
from shared.outbox import OutboxEvent
from shared.settings import Settings
from tests.flows import an_approved_case
from tests.waiting import eventually

RETENTION = timedelta(days=7)
MINUTE = timedelta(minutes=1)
# What the family told the police, and what only intake ever held; then what partners were
# sent that says who the child is, or who is suspected.
PERSONAL = (
    "Benali",  # family name (and the guardian's)
    "+212 600",  # the guardian's phone
    "Inspector Idrissi",  # the officer
    "2017-",  # a birth date
    "photos.example.org",  # the photo's URL
    "never arrived home",  # the circumstances
    "with an adult man",  # a sighting's description
    "aunt's flat",  # a note
    "Amina",  # the given name
    "Short black hair",  # the description
    "Red jacket",  # the clothing
    "Grey Renault",  # the suspected vehicle
    "12345-A-6",  # its plate
    "rue des Orangers",  # a home, typed as the place beside the last-seen point
    "uncle Ahmed",  # a home, typed as a sighting's place beside its point
)


def _body() -> dict[str, Any]:
    body = report_body()
    body["child"].pop("age")
    body["child"]["birth_date"] = "2017-03-14"
    return body


async def _new_case(stack: Stack, clock: FakeClock) -> str:
    body = _body()
    body["last_seen"]["at"] = (clock.now() - timedelta(minutes=30)).isoformat()
    # Beside a point, a place name is not looked up: free text, which may say whose home.
    body["last_seen"]["place_name"] = "Domicile Benali, 12 rue des Orangers"
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        report_id: str = created.json()["id"]
        sighting = await police.post(
            f"/v1/reports/{report_id}/sightings",
            json={
                "location": {"lat": 34.0209, "lon": -6.8416},
                "place_name": "Near uncle Ahmed's house",
                "at": (clock.now() - timedelta(minutes=5)).isoformat(),
                "description": "Seen at the bus station with an adult man",
                "trusted": False,
            },
        )
        assert sighting.status_code == 201, sighting.text
    return report_id


async def _case(stack: Stack, report_id: str) -> dict[str, Any]:
    async with stack.client("reader") as reader:
        response = await reader.get(f"/v1/reports/{report_id}")
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


async def _stored_text(stack: Stack, report_id: str) -> str:
    """Everything stored about the case in intake's tables, as text (sealed blobs opened)."""
    async with stack.embedded.sessions() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        sightings = (
            await session.scalars(select(Sighting).where(Sighting.report_id == report_id))
        ).all()
        sealer = stack.embedded.sealer
        opened = [sealer.unseal_text(v) for v in (report.sealed_data, report.status_reason) if v]
        typed = [f"{s.description} {s.place_name} {s.destination_place_name}" for s in sightings]
        return " ".join([report.public_data, *opened, *typed])


async def _audit(stack: Stack, report_id: str) -> list[AuditEntry]:
    async with stack.embedded.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.report_id == report_id).order_by(AuditEntry.id)
        return list((await session.scalars(query)).all())


def _timer(stack: Stack) -> RetentionTimer:
    assert stack.embedded.retention is not None
    return stack.embedded.retention


async def test_ended_cases_are_erased_after_the_retention_time(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    # The loop's own waits are long: the test drives the sweeps itself, deterministically.
    settings = embedded_settings(tmp_path, retention_interval_minutes=24 * 60)
    stack, server = await start_stack(settings, clock)
    try:
        resolved = await _new_case(stack, clock)
        expiring = await _new_case(stack, clock)
        still_open = await _new_case(stack, clock)
        async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
            done = await police.post(
                f"/v1/reports/{resolved}/resolve", json={"note": "Found at her aunt's flat"}
            )
            assert done.status_code == 200, done.text
            approved = await reviewer.post(
                f"/v1/reports/{expiring}/approve", json={**CRITERIA, "ttl_hours": 1}
            )
            assert approved.status_code == 200, approved.text
        before = await _stored_text(stack, resolved)
        assert [p for p in PERSONAL if p not in before] == []

        # Just before the resolved case's retention time: nothing is erased.
        clock.advance(RETENTION - MINUTE)
        assert await _timer(stack).erase_due() == 0
        assert (await _case(stack, resolved))["report"]["child"]["family_name"] == "Benali"

        # Just after: the resolved case, and only it (the alert expired an hour later),
        # counted with the acts on cases as the audit names it.
        clock.advance(2 * MINUTE)
        erasures = REGISTRY.get_sample_value("tifli_case_actions_total", {"action": "erase"})
        assert await _timer(stack).erase_due() == 1
        counted = REGISTRY.get_sample_value("tifli_case_actions_total", {"action": "erase"})
        assert (counted or 0) - (erasures or 0) == 1
        case = await _case(stack, resolved)
        assert case["erased_at"] == clock.now().isoformat().replace("+00:00", "Z")
        assert case["report"] is None and case["status_reason"] is None
        assert case["status"] == "resolved"  # what happened, and when, stays
        assert [s["description"] for s in case["sightings"]] == [None]
        assert case["sightings"][0]["location"] == {"lat": 34.0209, "lon": -6.8416}
        stored = await _stored_text(stack, resolved)
        assert not [p for p in PERSONAL if p in stored], stored
        # Where, when and how, and the child's sex, stay: the record of what happened.
        assert '"sex": "female"' in stored and '"travel_mode": "vehicle"' in stored
        assert (await _case(stack, expiring))["report"] is not None

        # The expired alert's case, one hour later, across a restart: the timer's state is
        # the database's.
        await server.__aexit__(None, None, None)
        clock.advance(timedelta(hours=1))
        stack, server = await start_stack(settings, clock)
        # The new process's first sweep, at start-up, erases it: no call from the test.
        case = await eventually(lambda: _case(stack, expiring), lambda c: c["report"] is None)
        assert case["status"] == "expired" and case["erased_at"] is not None
        async with stack.client("submitter") as police:
            late = await police.post(
                f"/v1/reports/{expiring}/sightings",
                json={
                    "location": {"lat": 34.0, "lon": -6.8},
                    # Input is checked against the wall clock, not the simulated one.
                    "at": (datetime.now(UTC) - MINUTE).isoformat(),
                    "description": "Seen with an adult man",
                    "trusted": False,
                },
            )
        assert late.status_code == 409, late.text  # nothing personal comes back in

        # An open case is never erased, however long it stays open.
        clock.advance(10 * RETENTION)
        assert await _timer(stack).erase_due() == 0
        assert (await _case(stack, still_open))["report"]["guardian"]["name"] == "Fatima Benali"

        # The audit: what happened and when, the erasure included, no personal data.
        entries = await _audit(stack, resolved)
        assert [e.action for e in entries] == ["submit", "add_sighting", "resolve", "erase"]
        assert entries[-1].key_id == "retention"
        rows = " ".join(f"{e.at} {e.key_id} {e.action} {e.target_key_id}" for e in entries)
        assert not [p for p in PERSONAL if p in rows]
    finally:
        await server.__aexit__(None, None, None)


async def test_a_case_closed_after_its_alert_expired_is_erased_counting_from_the_expiry(
    tmp_path: Path,
) -> None:
    """The case ended when its alert expired: the child found (or the report withdrawn) a
    day later does not start its retention time again."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    settings = embedded_settings(tmp_path, retention_interval_minutes=24 * 60)
    stack, server = await start_stack(settings, clock)
    try:
        found, withdrawn = await _new_case(stack, clock), await _new_case(stack, clock)
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            for report_id in (found, withdrawn):
                approval = {**CRITERIA, "ttl_hours": 1}
                approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=approval)
                assert approved.status_code == 200, approved.text
            clock.advance(timedelta(hours=1) + timedelta(days=1))  # expired a day ago
            resolved = await police.post(f"/v1/reports/{found}/resolve", json={"note": "found"})
            assert resolved.status_code == 200, resolved.text
            cancelled = await reviewer.post(
                f"/v1/reports/{withdrawn}/cancel", json={"reason": "duplicate"}
            )
            assert cancelled.status_code == 200, cancelled.text

        clock.advance(RETENTION - timedelta(days=1) - MINUTE)  # just before: from the expiry
        assert await _timer(stack).erase_due() == 0
        clock.advance(2 * MINUTE)
        assert await _timer(stack).erase_due() == 2
        for report_id in (found, withdrawn):
            assert (await _case(stack, report_id))["report"] is None
    finally:
        await server.__aexit__(None, None, None)


async def test_an_erasure_leaves_no_hash_of_what_was_sent(tmp_path: Path) -> None:
    """An Idempotency-Key's record keeps a hash of the request it answers, the child and the
    family in it: it would confirm a guess of them after the erasure. It goes with them, and
    a late retry is told the case it filed, and files no second one."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    stack, server = await start_stack(embedded_settings(tmp_path), clock)
    try:
        body = _body()
        key = {"Idempotency-Key": "filed-once"}
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            filed = await police.post("/v1/reports", json=body, headers=key)
            assert filed.status_code == 201, filed.text
            report_id = filed.json()["id"]
            await police.post(f"/v1/reports/{report_id}/resolve", json={"note": "found"})
            erased = await reviewer.post(f"/v1/reports/{report_id}/erase")
            assert erased.status_code == 200, erased.text
            async with stack.embedded.sessions() as session:
                kept = set(await session.scalars(select(IdempotencyRecord.request_hash)))
            assert request_fingerprint(ReportIn.model_validate(body)) not in kept

            retried = await police.post("/v1/reports", json=body, headers=key)
            assert retried.status_code == 409, retried.text
            assert retried.json()["report_id"] == report_id
        async with stack.embedded.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Report)) == 1
    finally:
        await server.__aexit__(None, None, None)


async def test_an_operator_erases_an_ended_case_at_once(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    stack, server = await start_stack(embedded_settings(tmp_path), clock)
    try:
        async with stack.embedded.sessions() as session, session.begin():
            await add_unit(session, "CASA-ANFA", "DGSN Casablanca Anfa", clock.now())
            stack.keys["casa_chief"] = await create_api_key(
                session,
                "casa_chief",
                ["reports:submit", "reports:read", "reports:review"],
                clock.now(),
                unit="CASA-ANFA",
            )
        open_case = await _new_case(stack, clock)
        ended = await _new_case(stack, clock)
        async with stack.client("reviewer") as operator:
            refused = await operator.post(f"/v1/reports/{open_case}/erase")
            assert refused.status_code == 409, refused.text
            assert refused.json()["status_now"] == "submitted"
            await operator.post(f"/v1/reports/{ended}/cancel", json={"reason": "duplicate"})
            async with stack.client("casa_chief") as unit_key:
                # A unit key does not see a national case at all…
                assert (await unit_key.post(f"/v1/reports/{ended}/erase")).status_code == 404
            erased = await operator.post(f"/v1/reports/{ended}/erase")
            assert erased.status_code == 200, erased.text
            assert erased.json()["report"] is None and erased.json()["status"] == "cancelled"
            again = await operator.post(f"/v1/reports/{ended}/erase")
            assert again.json()["erased_at"] == erased.json()["erased_at"]
        stored = await _stored_text(stack, ended)
        assert not [p for p in PERSONAL if p in stored], stored
        entries = await _audit(stack, ended)
        # Erased once, under the operator's key; the second call changed nothing.
        assert [e.action for e in entries][-2:] == ["cancel", "erase"]
        assert entries[-1].key_id != "retention"

        # …and may not erase its own unit's ended case either: that takes a national key.
        async with stack.client("casa_chief") as unit_key:
            body = _body()
            body["last_seen"]["at"] = (clock.now() - timedelta(minutes=30)).isoformat()
            own = (await unit_key.post("/v1/reports", json=body)).json()["id"]
            await unit_key.post(f"/v1/reports/{own}/resolve", json={"note": "found"})
            forbidden = await unit_key.post(f"/v1/reports/{own}/erase")
            assert forbidden.status_code == 403, forbidden.text
    finally:
        await server.__aexit__(None, None, None)


async def test_an_erased_case_found_afterwards_keeps_no_note(tmp_path: Path) -> None:
    """An alert of an hour expires, its case is erased, then the child is found (or the
    report withdrawn): the note (the reason) would bring personal data back into a record the
    retention sweep no longer takes (it takes cases not erased yet). Its sightings stand as
    they are."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    stack, server = await start_stack(embedded_settings(tmp_path), clock)
    try:
        note = "Found at her uncle's, 12 rue des Orangers; the father, Karim Benali, held"
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            ended = []
            for _ in range(2):
                report_id = await _new_case(stack, clock)
                approval = {**CRITERIA, "ttl_hours": 1}
                approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=approval)
                assert approved.status_code == 200, approved.text
                ended.append(report_id)
            clock.advance(timedelta(hours=2))  # both expired
            for report_id in ended:
                erased = await reviewer.post(f"/v1/reports/{report_id}/erase")
                assert erased.status_code == 200, erased.text
            found, withdrawn = ended
            # Nor are its sightings trusted afterwards (as it takes no new one).
            [sighting] = (await police.get(f"/v1/reports/{found}")).json()["sightings"]
            trust = await reviewer.post(f"/v1/reports/{found}/sightings/{sighting['id']}/trust")
            assert trust.status_code == 409, trust.text
            resolved = await police.post(f"/v1/reports/{found}/resolve", json={"note": note})
            cancelled = await reviewer.post(
                f"/v1/reports/{withdrawn}/cancel", json={"reason": note}
            )
        for closed, status in ((resolved, "resolved"), (cancelled, "cancelled")):
            assert closed.status_code == 200, closed.text
            assert (closed.json()["status"], closed.json()["status_reason"]) == (status, None)
        for report_id in ended:
            stored = await _stored_text(stack, report_id)
            assert not [p for p in (*PERSONAL, "Orangers") if p in stored], stored
    finally:
        await server.__aexit__(None, None, None)


async def test_the_cli_erases_an_ended_case(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    stack, server = await start_stack(settings, clock)
    try:
        report_id = await _new_case(stack, clock)
        async with stack.client("submitter") as police:
            await police.post(f"/v1/reports/{report_id}/resolve", json={"note": "found"})
    finally:
        await server.__aexit__(None, None, None)

    def tifli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TIFLI_DATABASE_URL": settings.database_url}
        env.pop("TIFLI_DATA_KEY", None)  # the embedded mode's key file
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # As some police systems print it: the same case.
    erased = tifli("reports", "erase", report_id.upper())
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.strip() == f"report {report_id} erased"
    missing = tifli("reports", "erase", "no-such-report")
    assert missing.returncode == 1 and "no report no-such-report" in missing.stderr

    stack, server = await start_stack(settings, clock)
    try:
        case = await _case(stack, report_id)
        assert case["report"] is None and case["erased_at"] is not None
        assert (await _audit(stack, report_id))[-1].key_id == "cli"
    finally:
        await server.__aexit__(None, None, None)


@pytest.mark.postgres
async def test_two_processes_sweeping_at_once_erase_each_case_once(postgres_url: str) -> None:
    """Two intake processes' timers at the same moment, in small batches: the cases are
    shared between them (``SKIP LOCKED``), each erased and audited exactly once."""
    url = await fresh_database(postgres_url)
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    long_ago = datetime.now(UTC) - 2 * RETENTION
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(Report),
                [
                    {
                        "id": f"case-{i:04d}",
                        "status": "cancelled",
                        "message_status": "Actual",
                        "created_at": long_ago,
                        "updated_at": long_ago,
                        "submitted_by_key": "k",
                        "public_data": json.dumps({"child": {"given_name": "Amina"}}),
                        "sealed_data": "sealed",
                    }
                    for i in range(600)
                ],
            )
        sessions = session_factory(engine)
        timers = [
            RetentionTimer(sessions, SystemClock(), keep=RETENTION, interval_s=3600, batch_size=25)
            for _ in range(2)
        ]
        counts = await asyncio.gather(*(t.erase_due() for t in timers))
        assert sum(counts) == 600
        async with engine.connect() as connection:
            audited = (
                await connection.execute(
                    select(AuditEntry.report_id, func.count())
                    .where(AuditEntry.action == "erase")
                    .group_by(AuditEntry.report_id)
                )
            ).all()
            left = await connection.scalar(
                select(func.count()).select_from(Report).where(Report.erased_at.is_(None))
            )
        assert len(audited) == 600 and {n for _, n in audited} == {1}
        assert left == 0
        # Two sweeps appending at once, in batches, leave one unbroken chain.
        async with sessions() as session:
            chain = await verify_audit_chain(session)
        assert chain.broken is None and chain.verified == 600
    finally:
        await engine.dispose()


def test_the_retention_time_is_validated() -> None:
    assert Settings().retention_days == 7
    for wrong in ("0", "-1", "forever", "4000"):
        with pytest.raises(ValidationError, match="retention_days"):
            Settings(retention_days=wrong)


async def test_an_erased_case_leaves_no_child_in_what_partners_were_sent(stack: Stack) -> None:
    """Intake, the alert engine's versions (and so their CAP documents) and the dispatcher's
    deliveries each keep a copy of what partners were sent: all of them forget the child (a
    name, a description, photos) and who is suspected (a vehicle, its plate)."""
    photo = "https://photos.example.org/amina.jpg"
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        async with stack.clients("submitter", "reviewer", "reader") as (police, operator, reader):
            report, alert_id = await an_approved_case(police, operator)
            await partner.wait_for(1)
            # Its description put right while the alert is up: an Update, and intake's event.
            patch = {"child": {"clothing": "Robe rouge, cartable"}}
            assert (await operator.patch(report, json=patch)).status_code == 200
            await partner.wait_for(2)
            assert (await police.post(f"{report}/resolve", json={})).status_code == 200
            await partner.wait_for(3)
            cap = f"/v1/alerts/{alert_id}/cap"
            assert photo in (await reader.get(cap, params={"sequence": 1})).text

            assert (await operator.post(f"{report}/erase")).status_code == 200

            first = f"/v1/alerts/{alert_id}/versions/1"
            version = (
                await eventually(lambda: reader.get(first), lambda r: r.json()["child"] is None)
            ).json()
            assert version["photo_urls"] == [] and version["suspected_vehicle"] is None
            # Its texts are the take-down's, which name no one; where and when stay.
            assert [i["headline"] for i in version["info"] if i["language"] == "en"] == [
                "Alert over"
            ]
            assert version["last_seen"]["place"] and version["area"]["geojson"]
            document = (await reader.get(cap, params={"sequence": 1})).text
            assert not [p for p in (photo, "Amina", "Grey Renault", "12345-A-6") if p in document]

        async def payloads() -> list[str]:
            async with stack.embedded.sessions() as session:
                query = select(Delivery.payload).where(Delivery.alert_id == alert_id)
                return list(await session.scalars(query))

        kept = await eventually(payloads, lambda found: all("Amina" not in p for p in found))
    assert len(kept) == 3
    assert not [p for p in (photo, "Grey Renault", "12345-A-6", "Robe rouge") if p in "".join(kept)]

    # Nor do the events published about the case and its alert, which the outbox kept until
    # its next pruning (the broker keeps its own copies, for its own retention).
    about = [report.rsplit("/", 1)[1], alert_id]

    async def published() -> list[str]:
        async with stack.embedded.sessions() as session:
            query = select(OutboxEvent.payload).where(OutboxEvent.key.in_(about))
            return list(await session.scalars(query))

    events = await eventually(published, lambda found: all("Amina" not in p for p in found))
    assert not [
        p for p in (photo, "Grey Renault", "12345-A-6", "Robe rouge") if p in "".join(events)
    ]


# The engine cannot take an alert down: a resolution fails there, and is parked.
REFUSE_TAKE_DOWNS = (
    "CREATE TRIGGER refuse_take_downs BEFORE UPDATE OF state ON alerts "
    "WHEN NEW.state = 'cancelled' BEGIN SELECT RAISE(ABORT, 'refused'); END"
)


async def test_erasing_a_case_whose_take_down_was_parked_takes_its_alert_down(
    tmp_path: Path,
) -> None:
    """The case ended at intake but its resolution never reached the engine (parked on the
    dead-letter topic): an erasure, which only an ended case gets, takes the alert down."""
    stack, server = await start_stack(embedded_settings(tmp_path, bus_max_attempts=2))
    try:
        async with partner_endpoint() as partner:
            await stack.register_partner(partner)
            async with stack.clients("submitter", "reviewer") as (police, operator):
                report, _ = await an_approved_case(police, operator)
                await partner.wait_for(1)
                async with stack.embedded.sessions() as session, session.begin():
                    await session.execute(text(REFUSE_TAKE_DOWNS))
                assert (await police.post(f"{report}/resolve", json={})).status_code == 200
                await stack.quiet()  # the resolution failed twice: parked
                async with stack.embedded.sessions() as session, session.begin():
                    await session.execute(text("DROP TRIGGER refuse_take_downs"))
                assert len(partner.received) == 1  # the alert is still up

                assert (await operator.post(f"{report}/erase")).status_code == 200

                [_, cancel] = await partner.wait_for(2)
            assert json.loads(cancel.body)["type"] == "alert.cancelled"
    finally:
        await server.__aexit__(None, None, None)


# Written in clear in the report's public part, in what partners were sent and in the
# sighting: what an erasure must leave no byte of.
_IN_CLEAR = ("Amina", "Red jacket", "Grey Renault", "never arrived home", "with an adult man")


async def _personal_bytes_on_disk(database: Path) -> list[str]:
    """What of ``_IN_CLEAR`` the SQLite file or its write-ahead log still hold."""
    files = [database, database.with_name(f"{database.name}-wal")]
    held = b"".join(f.read_bytes() for f in files if f.exists())
    return [p for p in _IN_CLEAR if p.encode() in held]


async def test_an_erasure_leaves_no_child_in_the_write_ahead_log(tmp_path: Path) -> None:
    """In the embedded mode, while the service runs: intake's erasure, then the alert
    engine's and the dispatcher's, each leave no erased value in ``tifli.db-wal`` (SQLite
    appends each change to it, the replaced pages staying in it until a checkpoint)."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    stack, server = await start_stack(embedded_settings(tmp_path), clock)
    database = tmp_path / "tifli.db"
    try:
        async with partner_endpoint() as partner:
            await stack.register_partner(partner)
            async with stack.clients("reviewer") as (operator,):
                report_id = await _new_case(stack, clock)
                approved = await operator.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
                assert approved.status_code == 200, approved.text
                await partner.wait_for(1)
                await operator.post(f"/v1/reports/{report_id}/resolve", json={"note": "found"})
                await partner.wait_for(2)
                assert set(_IN_CLEAR) <= set(await _personal_bytes_on_disk(database))
                erased = await operator.post(f"/v1/reports/{report_id}/erase")
                assert erased.status_code == 200, erased.text
            # The engine's and the dispatcher's erasures follow on the events.
            left = await eventually(
                lambda: _personal_bytes_on_disk(database), lambda found: not found, timeout=10
            )
        assert left == []
    finally:
        await server.__aexit__(None, None, None)


async def test_the_retention_sweep_leaves_no_child_in_the_write_ahead_log(
    tmp_path: Path,
) -> None:
    """The sweep's erasure, while the service's connections hold the database open (so no
    last close checkpoints the log)."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    stack, server = await start_stack(embedded_settings(tmp_path), clock)
    database = tmp_path / "tifli.db"
    try:
        report_id = await _new_case(stack, clock)
        async with stack.client("reviewer") as operator:
            await operator.post(f"/v1/reports/{report_id}/cancel", json={"reason": "duplicate"})
        assert "Amina" in await _personal_bytes_on_disk(database)
        clock.advance(RETENTION + MINUTE)
        assert await _timer(stack).erase_due() == 1
        assert await _personal_bytes_on_disk(database) == []
    finally:
        await server.__aexit__(None, None, None)
