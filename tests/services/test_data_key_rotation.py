"""Secrets at rest and the data key's rotation, end to end on PostgreSQL: the old key alone →
the new key added → ``tifli data-key rotate`` → the old key removed: everything still opens
(reports, notes, partner tokens and secrets) and a partner still verifies what it receives.
A value under a removed key fails loudly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dispatcher.models import Partner
from intake_api.models import Report
from services.data_key_rotation import rotate
from services.testbed.backing_servers import ROOT
from services.testbed.partner import PartnerEndpoint, partner_endpoint
from services.testbed.production import cap_signing_env, fresh_database
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.db import create_engine, session_factory
from shared.sealing import SealedValueError, Sealer
from tests.flows import verify_both_signatures

pytestmark = pytest.mark.postgres


async def _stored(url: str) -> tuple[list[Report], list[Partner]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            reports = list((await session.scalars(select(Report).order_by(Report.id))).all())
            partners = list((await session.scalars(select(Partner))).all())
    finally:
        await engine.dispose()
    return reports, partners


def _cli(url: str, data_key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIFLI_DATABASE_URL": url, "TIFLI_DATA_KEY": data_key}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _with_stack(tmp_path: Path, url: str, data_key: str) -> tuple[Stack, Any]:
    cap = cap_signing_env()  # the API signs CAP documents: with PostgreSQL it needs a key
    settings = embedded_settings(
        tmp_path,
        database_url=url,
        data_key=data_key,
        cap_signing_key=cap["TIFLI_CAP_SIGNING_KEY"],
        cap_signing_certificate=cap["TIFLI_CAP_SIGNING_CERTIFICATE"],
    )
    return await start_stack(settings)


async def _read_case(stack: Stack, report_id: str) -> dict[str, Any]:
    async with stack.client("reader") as reader:
        response = await reader.get(f"/v1/reports/{report_id}")
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


async def _alert_reaches(stack: Stack, partner: PartnerEndpoint, secret: str, count: int) -> None:
    """A new case approved: the partner gets it, signed with ``secret``."""
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        created = await police.post("/v1/reports", json=report_body())
        approved = await reviewer.post(f"/v1/reports/{created.json()['id']}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    received = await partner.wait_for(count)
    verify_both_signatures(secret, received[-1])


async def test_rotating_the_data_key_keeps_everything_readable(
    postgres_url: str, tmp_path: Path
) -> None:
    url = await fresh_database(postgres_url)
    old, new = Sealer.new_key(), Sealer.new_key()
    async with partner_endpoint() as partner:
        # 1. The old key alone: a case with a sealed note, a partner with its secret.
        stack, server = await _with_stack(tmp_path, url, old)
        try:
            registered = await stack.register_partner(partner)
            secret = str(registered["secret"])
            async with stack.client("submitter") as police:
                created = await police.post("/v1/reports", json=report_body())
                report_id = created.json()["id"]
                resolved = await police.post(
                    f"/v1/reports/{report_id}/resolve", json={"note": "Found at her aunt's"}
                )
                assert resolved.status_code == 200, resolved.text
        finally:
            await server.__aexit__(None, None, None)
        reports, [stored] = await _stored(url)
        # At rest: neither the partner's token nor its secret in clear; both open with the key.
        assert partner.verify_token not in stored.verify_token and secret != stored.secret
        assert Sealer(old).unseal_text(stored.verify_token) == partner.verify_token
        assert Sealer(old).unseal_text(stored.secret) == secret
        assert "Benali" not in reports[0].sealed_data

        # 2. The new key added in front: old values still open, new ones use the new key.
        stack, server = await _with_stack(tmp_path, url, f"{new},{old}")
        try:
            case = await _read_case(stack, report_id)
            assert case["report"]["child"]["family_name"] == "Benali"
            assert case["status_reason"] == "Found at her aunt's"
            await _alert_reaches(stack, partner, secret, 1)
        finally:
            await server.__aexit__(None, None, None)

        # 3. Rotate: every sealed value re-sealed with the new key.
        rotated = _cli(url, f"{new},{old}", "data-key", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        assert "reports: 3" in rotated.stdout and "partners: 2" in rotated.stdout, rotated.stdout
        reports, [stored] = await _stored(url)
        for value in [stored.verify_token, stored.secret, *(r.sealed_data for r in reports)]:
            with pytest.raises(SealedValueError):
                Sealer(old).unseal_text(value)  # nothing is left under the old key

        # 4. The old key removed: everything still reads, the partner still verifies.
        stack, server = await _with_stack(tmp_path, url, new)
        try:
            case = await _read_case(stack, report_id)
            assert case["report"]["child"]["family_name"] == "Benali"
            assert case["status_reason"] == "Found at her aunt's"
            async with stack.client("admin") as admin:
                again = await admin.post(f"/v1/partners/{registered['id']}/verify")
            assert again.json()["status"] == "active"  # the verify token opened
            await _alert_reaches(stack, partner, secret, 2)
        finally:
            await server.__aexit__(None, None, None)

    # 5. A key that opens nothing stored: reads and the rotation fail loudly.
    stranger = Sealer.new_key()
    failed = _cli(url, stranger, "data-key", "rotate")
    assert failed.returncode == 1
    assert "opens with none of the keys in TIFLI_DATA_KEY" in failed.stderr
    # Where it stopped, for the operator who has to find that key: a report's blob (the
    # first in the database's order, which its collation sets).
    stopped = re.search(r"stopped at reports row (\S+): its sealed_data opens", failed.stderr)
    every_report = {r.id for r in (await _stored(url))[0]}
    assert stopped is not None and stopped[1] in every_report, failed.stderr
    assert "0 value(s) of reports re-sealed before it" in failed.stderr
    stack, server = await _with_stack(tmp_path, url, stranger)
    try:
        async with stack.client("reader") as reader:
            response = await reader.get(f"/v1/reports/{report_id}")
        assert response.status_code == 500  # never a case shown with its fields missing
        assert "Benali" not in response.text
    finally:
        await server.__aexit__(None, None, None)
    reports, _ = await _stored(url)
    assert json.loads(reports[0].public_data)["child"]["given_name"] == "Amina"


async def test_a_stopped_rotation_counts_only_the_batches_it_committed(postgres_url: str) -> None:
    url = await fresh_database(postgres_url)
    old, new, lost = Sealer.new_key(), Sealer.new_key(), Sealer.new_key()
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Report.metadata.create_all)
        async with session_factory(engine)() as session, session.begin():
            # In id order: three under the old key, then one under a key nobody holds.
            for report_id, key in (("a", old), ("b", old), ("c", old), ("d", lost)):
                session.add(
                    Report(
                        id=report_id, status="pending", message_status="none",
                        created_at=now, updated_at=now, submitted_by_key="k",
                        public_data="{}", sealed_data=Sealer(key).seal_text(f"sealed {report_id}"),
                    )
                )  # fmt: skip
        with pytest.raises(SealedValueError) as stopped:
            await rotate(session_factory(engine), Sealer(f"{new},{old}"), batch_size=2)
        # [a, b] committed; [c, d] rolled back with d: c stays under the old key.
        assert "stopped at reports row d: its sealed_data" in str(stopped.value)
        assert "2 value(s) of reports re-sealed before it" in str(stopped.value)
        async with session_factory(engine)() as session:
            stored = (await session.scalars(select(Report).order_by(Report.id))).all()
        assert [Sealer(new).unseal_text(r.sealed_data) for r in stored[:2]] == [
            "sealed a",
            "sealed b",
        ]
        assert Sealer(old).unseal_text(stored[2].sealed_data) == "sealed c"
    finally:
        await engine.dispose()
