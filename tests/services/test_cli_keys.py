"""``tifli units`` and ``tifli keys create|list|revoke``, run as an operator runs them."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from intake_api.models import AuditEntry
from services.cli import build_parser, parse_duration
from services.testbed.backing_servers import ROOT
from shared.auth import authenticate, key_id_of
from shared.clock import SystemClock
from shared.db import create_engine, session_factory


def _tifli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIFLI_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_units_and_keys_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert (
        _tifli(
            url, "units", "add", "CASA-ANFA", "--name", "DGSN Casablanca Anfa", "--init"
        ).returncode
        == 0
    )
    assert _tifli(url, "units", "list").stdout == "CASA-ANFA\tDGSN Casablanca Anfa\n"

    unit_key = _tifli(
        url, "keys", "create", "--name", "casa-desk", "--scope", "reports:submit",
        "--unit", "CASA-ANFA", "--expires-in", "90d",
    )  # fmt: skip
    national = _tifli(
        url, "keys", "create", "--name", "central", "--scope", "reports:review", "--national"
    )
    assert unit_key.returncode == national.returncode == 0
    secret = unit_key.stdout.strip()
    assert secret.startswith("tfk_")

    revoked = _tifli(url, "keys", "revoke", "casa-desk")
    assert revoked.returncode == 0, revoked.stderr

    listing = _tifli(url, "keys", "list").stdout.splitlines()
    assert listing[0].split()[:4] == ["ID", "NAME", "REACH", "STATE"]
    rows = {line.split()[1]: line.split() for line in listing[1:]}
    assert rows["casa-desk"][2:4] == ["CASA-ANFA", "revoked"]
    assert rows["central"][2:4] == ["national", "active"]
    assert secret not in "\n".join(listing)  # never shown again

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            assert await authenticate(session, secret, SystemClock().now()) is None
            audit = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    finally:
        await engine.dispose()
    # The command line acts as "cli": two creations and one revocation.
    assert [(a.key_id, a.action) for a in audit] == [
        ("cli", "key_create"),
        ("cli", "key_create"),
        ("cli", "key_revoke"),
    ]


async def test_a_leaked_key_is_revoked_as_pasted_and_never_repeated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    created = _tifli(url, "keys", "create", "--name", "desk", "--scope", "reports:read",
                     "--national", "--init")  # fmt: skip
    secret = created.stdout.strip()
    key_id = key_id_of(secret)

    revoked = _tifli(url, "keys", "revoke", secret)
    assert revoked.returncode == 0, revoked.stderr
    assert f"key {key_id} (desk) revoked" in revoked.stdout
    assert secret.split("_", 2)[2] not in revoked.stdout + revoked.stderr
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            assert await authenticate(session, secret, SystemClock().now()) is None
    finally:
        await engine.dispose()

    # A whole key of no known id: refused by that id, the secret not said back.
    unknown = _tifli(url, "keys", "revoke", "tfk_000000000000_do-not-echo-me")
    assert unknown.returncode == 1
    assert "no key with the id of the key given (000000000000)" in unknown.stderr
    assert "do-not-echo-me" not in unknown.stdout + unknown.stderr
    # Pasted with what was copied around it: no whole key, and still not said back.
    pasted = _tifli(url, "keys", "revoke", "Bearer tfk_000000000000_do-not-echo-me")
    assert pasted.returncode == 1
    assert "no key with id or name 'Bearer tfk_000000000000_…'" in pasted.stderr
    assert "do-not-echo-me" not in pasted.stdout + pasted.stderr


NATIONAL_READER = ("keys", "create", "--name", "x", "--scope", "reports:read", "--national")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "revoke", "nobody"), "no key with id or name 'nobody'"),
        (("keys", "create", "--name", "x", "--scope", "reports:read", "--unit", "NOPE"), "NOPE"),
        (("keys", "create", "--name", "x", "--scope", "keys:admin", "--unit", "NOPE"), "national"),
        # As the API refuses it: a lifetime beyond ten years.
        ((*NATIONAL_READER, "--expires-in", "3651d"), "at most 3650 days"),
        # Names as the API takes them: a terminal escape would reach every `keys list`.
        (
            (
                "keys",
                "create",
                "--name",
                "evil\x1b[31mRED",
                "--scope",
                "reports:read",
                "--national",
            ),
            "--name",
        ),
        (("units", "add", "RABAT", "--name", "Rabat\x1b[2J"), "--name"),
    ],
)
def test_refusals_say_why(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    done = _tifli(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", *args, "--init")
    assert done.returncode != 0
    assert message in done.stderr


def test_a_keys_reach_is_always_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    # A forgotten --unit must not make a national key.
    with pytest.raises(SystemExit):
        build_parser().parse_args(["keys", "create", "--name", "x", "--scope", "reports:read"])
    assert "one of the arguments --unit --national is required" in capsys.readouterr().err


def test_durations() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    for bad in ("90", "0d", "-1d", "1y", "d"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_duration(bad)
