"""The audit log as operators and auditors use it: ``GET /v1/audit`` (national keys only),
``tifli audit verify`` against rows changed or deleted in SQL, appends from two writers at
once on PostgreSQL, and migration 0005 chaining the entries written before it."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import String, column, insert, table, text

from intake_api import keys
from intake_api.audit_log import verify
from services.database import alembic_config, upgrade
from services.testbed.backing_servers import ROOT
from services.testbed.production import fresh_database
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.auth import add_unit, create_api_key
from shared.db import UtcDateTime, create_engine, session_factory


async def _verify_cli(database_url: str) -> subprocess.CompletedProcess[str]:
    # In a thread: the stack in this process keeps serving (and committing) meanwhile.
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli", "audit", "verify"],
        cwd=ROOT,
        env={**os.environ, "TIFLI_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _auditor(stack: Stack, *, unit: str | None = None) -> str:
    now = datetime.now(UTC)
    async with stack.embedded.sessions() as session, session.begin():
        if unit is not None:
            await add_unit(session, unit, "DGSN Casablanca Anfa", now)
        # Straight in the database: the API would refuse audit:read to a unit key.
        return await create_api_key(session, "auditor", ["audit:read"], now, unit=unit)


async def _approved_case(stack: Stack) -> str:
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        submitted = await police.post("/v1/reports", json=report_body())
        assert submitted.status_code == 201, submitted.text
        report_id: str = submitted.json()["id"]
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    return report_id


async def test_a_national_auditor_reads_the_chain_without_personal_data(stack: Stack) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = await _approved_case(stack)
    second = await _approved_case(stack)
    key = await _auditor(stack)
    stack.keys["auditor"] = key
    async with stack.client("auditor") as auditor:
        everything = (await auditor.get("/v1/audit")).json()
        one_case = (await auditor.get("/v1/audit", params={"case_id": first})).json()
        paged = (await auditor.get("/v1/audit", params={"limit": 3})).json()
        later = await auditor.get("/v1/audit", params={"since": datetime.now(UTC).isoformat()})
        earlier = await auditor.get("/v1/audit", params={"since": before.isoformat()})
        naive = await auditor.get("/v1/audit", params={"since": "2026-12-03T10:00:00"})
        unix_time = await auditor.get("/v1/audit", params={"since": "0.5"})

    items = everything["items"]
    assert [(e["case_id"], e["action"]) for e in items] == [
        (first, "submit"),
        (first, "approve"),
        (second, "submit"),
        (second, "approve"),
    ]
    assert [e["seq"] for e in items] == [1, 2, 3, 4]
    assert all(e["prev_hash"] == p["entry_hash"] for p, e in itertools.pairwise(items))
    assert {e["key_id"] for e in items} == {
        stack.keys["submitter"].split("_")[1],
        stack.keys["reviewer"].split("_")[1],
    }
    # Each acting key by name too, as the reader knows keys.
    assert [e["key_name"] for e in items] == ["submitter", "reviewer"] * 2
    assert [e["action"] for e in one_case["items"]] == ["submit", "approve"]
    assert len(paged["items"]) == 3 and paged["next_offset"] == 3
    assert later.json()["items"] == [] and len(earlier.json()["items"]) == 4
    for refused in (naive, unix_time):
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "query.since"
    # No name, phone, officer or place: ids, acts and times only.
    child = report_body()
    for personal in ("Amina", "Benali", "+212", "Idrissi", "Maarif", "Kangoo"):
        assert personal not in str(everything), personal
    assert child["guardian"]["phone"] not in str(everything)


async def test_the_audit_log_is_for_national_keys_only(stack: Stack) -> None:
    stack.keys["unit_auditor"] = await _auditor(stack, unit="CASA-ANFA")
    async with stack.client("unit_auditor") as unit_key, stack.client("reader") as reader:
        assert (await unit_key.get("/v1/audit")).status_code == 403
        assert (await reader.get("/v1/audit")).status_code == 403
    async with stack.client() as nobody:
        assert (await nobody.get("/v1/audit")).status_code == 401
    async with stack.client("admin") as admin:
        refused = await admin.post(
            "/v1/keys",
            json={"name": "casa-audit", "scopes": ["audit:read"], "unit": "CASA-ANFA"},
        )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "scopes"


async def test_verify_names_a_changed_then_a_deleted_row(stack: Stack) -> None:
    report_id = await _approved_case(stack)
    async with stack.client("reviewer") as reviewer:
        resolved = await reviewer.post(f"/v1/reports/{report_id}/resolve", json={"note": "found"})
        assert resolved.status_code == 200, resolved.text
    assert stack.settings is not None
    url = stack.settings.database_url
    intact = await _verify_cli(url)
    assert (intact.returncode, intact.stdout) == (0, "audit chain verified: 3 entries\n"), (
        intact.stderr
    )

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            row_id = (
                await connection.execute(text("SELECT id FROM audit_log WHERE seq = 2"))
            ).scalar_one()
            # An insider turns the approval into a rejection.
            await connection.execute(text("UPDATE audit_log SET action = 'reject' WHERE seq = 2"))
        changed = await _verify_cli(url)
        assert changed.returncode == 1
        assert f"row id {row_id} (seq 2)" in changed.stderr and "changed" in changed.stderr

        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        deleted = await _verify_cli(url)
        assert deleted.returncode == 1
        assert "seq 2 is missing" in deleted.stderr, deleted.stderr

        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM audit_log WHERE seq = 3"))
        async with session_factory(engine)() as session:
            # With entry 2 and the last one gone, the gap is behind: the head shows the loss.
            await session.execute(text("DELETE FROM audit_log WHERE seq = 1"))
            result = await verify(session)
        assert result.broken is not None and "head records seq 3" in str(result.broken)
    finally:
        await engine.dispose()


async def test_verify_names_a_row_whose_time_is_no_time_or_whose_seq_was_renumbered(
    stack: Stack,
) -> None:
    """Tampering that breaks a column's type is reported like any other change, not a crash
    (SQLite's columns take any value); a renumbered row is named itself, not the row after
    the gap it leaves."""
    await _approved_case(stack)
    await _approved_case(stack)
    assert stack.settings is not None
    url = stack.settings.database_url
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            query = text("SELECT seq, id, at FROM audit_log ORDER BY seq")
            rows = (await connection.execute(query)).all()
        row_id = {seq: row for seq, row, _ in rows}
        for garbage in ("'garbage'", "7"):
            async with engine.begin() as connection:
                await connection.execute(text(f"UPDATE audit_log SET at = {garbage} WHERE seq = 2"))
            broken = await _verify_cli(url)
            assert broken.returncode == 1, broken.stderr
            assert "Traceback" not in broken.stderr, broken.stderr
            assert f"broken at row id {row_id[2]} (seq 2): its time" in broken.stderr, broken.stderr
            assert "changed" in broken.stderr

        async with engine.begin() as connection:
            # Put back as it was: the chain holds again.
            await connection.execute(
                text("UPDATE audit_log SET at = :at WHERE seq = 2"), {"at": rows[1].at}
            )
        assert (await _verify_cli(url)).returncode == 0
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE audit_log SET seq = 99 WHERE seq = 3"))
        renumbered = await _verify_cli(url)
        assert renumbered.returncode == 1
        assert f"broken at row id {row_id[3]} (seq 99)" in renumbered.stderr, renumbered.stderr
        assert "renumbered" in renumbered.stderr
    finally:
        await engine.dispose()


async def _create_keys(database_url: str, count: int) -> None:
    """One writer (its own pool of connections, like an intake process): ``count`` audited
    key creations at once."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def one(n: int) -> None:
        async with sessions() as session, session.begin():
            await keys.create(
                session,
                keys.CLI_ACTOR,
                datetime.now(UTC),
                name=f"desk-{n}",
                scopes=["reports:read"],
                unit=None,
                expires_in=None,
            )

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_two_writers_at_once_on_postgres_make_one_chain(postgres_url: str) -> None:
    url = await fresh_database(postgres_url)
    await asyncio.to_thread(upgrade, url)
    await asyncio.gather(_create_keys(url, 15), _create_keys(url, 15))
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            result = await verify(session)
    finally:
        await engine.dispose()
    assert result.broken is None and result.verified == 30


_AUDIT_0004 = table(
    "audit_log",
    column("at", UtcDateTime()),
    column("key_id", String()),
    column("action", String()),
    column("report_id", String()),
)


async def _entries_before_the_chain(url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0004")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            # Written as the models of revision 0004 wrote them (the type stores the time).
            await connection.execute(
                insert(_AUDIT_0004),
                [
                    {
                        "at": datetime(2026, 12, 1, 9, n, 1, 123_457 * n, tzinfo=UTC),
                        "key_id": "cli",
                        "action": "submit",
                        "report_id": f"c{n}",
                    }
                    for n in range(5)
                ],
            )
        await asyncio.to_thread(upgrade, url)
        async with session_factory(engine)() as session, session.begin():
            await keys.create(
                session, "cli", datetime.now(UTC), name="after", scopes=["reports:read"],
                unit=None, expires_in=None,
            )  # fmt: skip
        async with session_factory(engine)() as session:
            result = await verify(session)
    finally:
        await engine.dispose()
    assert result.broken is None and result.verified == 6


async def test_migration_chains_the_entries_written_before_it_on_sqlite(tmp_path: Path) -> None:
    await _entries_before_the_chain(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
async def test_migration_chains_the_entries_written_before_it_on_postgres(
    postgres_url: str,
) -> None:
    await _entries_before_the_chain(await fresh_database(postgres_url))
