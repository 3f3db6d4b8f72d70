"""What every ``tifli`` command shares: help with an example, the version, imports made only
when a command runs, and the database it writes to said (and refused without a schema)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from services.cli import build_parser
from services.cli.arguments import parse_since
from services.cli.database_target import shown_url
from services.cli.run import ROLES
from services.components import ALL_ROLES
from services.testbed.backing_servers import ROOT
from services.testbed.loopback import free_port
from shared.sealing import Sealer
from shared.settings import Settings
from tests.services.cli_runner import tifli


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                children = _subcommands(child)
                found += children or [child]
    return found


def test_every_command_explains_itself_with_an_example() -> None:
    commands = _subcommands(build_parser())
    names = {c.prog.removeprefix("tifli ") for c in commands}
    assert {
        "run", "db upgrade", "keys create", "keys list", "keys revoke", "units add",
        "units list", "partners list", "partners show", "partners verify", "partners disable",
        "partners test", "deliveries list", "deliveries replay", "zone preview", "demo",
    } <= names  # fmt: skip
    for command in commands:
        text = command.format_help()
        assert "\nexample:\n" in text, command.prog
        assert command.prog in text.split("\nexample:\n", 1)[1], command.prog


def test_every_command_group_shows_its_commands_examples() -> None:
    """``tifli keys --help`` ends with an example of each of its commands, whole (a command
    continued on the next line keeps that line)."""
    groups = [
        child
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for child in action.choices.values()
        if _subcommands(child)
    ]
    assert {g.prog for g in groups} >= {"tifli keys", "tifli partners", "tifli zone"}
    for group in groups:
        shown = group.format_help().split("\nexamples:\n", 1)[1]
        for command in _subcommands(group):
            assert command.prog in shown, command.prog
        assert not shown.rstrip().endswith("\\"), group.prog


def test_the_parser_loads_none_of_the_services() -> None:
    # `tifli --help` must answer at once: the heavy imports happen in the command that runs.
    probe = (
        "import sys; from services.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'shapely', 'pydantic', 'httpx', "
        "'alembic', 'uvicorn', 'asyncio') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "tifli 0.1.0"


def test_the_roles_offered_are_the_services_roles() -> None:
    assert ROLES == ALL_ROLES


def test_durations_since() -> None:
    assert parse_since("30m") == timedelta(minutes=30)
    assert parse_since("1h") == timedelta(hours=1)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since("1y")


def test_a_shown_database_url_has_no_password() -> None:
    shown = shown_url("postgresql+asyncpg://tifli:s3cret@db.example:5432/tifli")
    assert shown == "postgresql+asyncpg://tifli@db.example:5432/tifli"


async def test_a_database_without_schema_is_refused_unless_init(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere.db"
    url = f"sqlite+aiosqlite:///{database}"
    refused = await tifli(url, "keys", "list")
    assert refused.returncode == 2
    assert f"tifli: database {url}" in refused.stderr
    assert "has no Tifli schema" in refused.stderr and "--init" in refused.stderr
    assert not database.exists()  # nothing created in passing

    created = await tifli(url, "units", "list", "--init")
    assert created.returncode == 0, created.stderr
    assert database.exists()
    # A misspelt setting is said, with the one it likely means, and the command still runs.
    again = await tifli(url, "units", "list", TIFLI_WEBHOOK_TIMEOUT="3")
    assert again.returncode == 0, again.stderr
    assert (
        "tifli: TIFLI_WEBHOOK_TIMEOUT (did you mean TIFLI_WEBHOOK_TIMEOUT_S?) is not a setting: "
        "ignored" in again.stderr
    )


def test_zone_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "zone.svg"
    args = build_parser().parse_args(
        ["zone", "preview", "--lat", "35.76", "--lon", "-5.83", "-o", str(picture)]
    )
    assert args.handler(Settings(), args) == 0
    lines = dict(
        line.split(None, 1) for line in capsys.readouterr().out.splitlines() if line[:1] != " "
    )
    assert lines["radius"] == "160 km"  # the floor: a fresh report
    assert lines["targeting"] in ("polygon", "geocodes")
    assert lines["geocodes"].startswith("MA-01")  # Tanger-Tétouan-Al Hoceïma
    assert lines["overshoot"].startswith("land ")
    svg = ET.parse(picture).getroot()
    namespace = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{namespace}svg"
    # Foreign land, territory, borders, coast, the disk and the sent polygon.
    assert len(svg.findall(f"{namespace}path")) == 6
    legend = [t.text for t in svg.findall(f"{namespace}text")]
    assert "sent polygon(s)" in legend and "coast and borders" in legend


@pytest.mark.parametrize(
    "command", [["zone", "preview", "--lat", "35.76", "--lon", "-5.83"], ["demo"]]
)
def test_a_picture_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """A missing folder, or a folder given for the file: said as the command line is read
    (it was a traceback after the zone was drawn; the drill stopped before its Cancel)."""
    for output, said in ((tmp_path / "none" / "z.svg", "does not exist"), (tmp_path, "folder")):
        with pytest.raises(SystemExit) as refused:
            build_parser().parse_args([*command, "-o", str(output)])
        assert refused.value.code == 2
        assert said in capsys.readouterr().err


def test_zone_preview_refuses_a_point_off_the_earth(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["zone", "preview", "--lat", "95", "--lon", "0"])
    assert args.handler(Settings(), args) == 2
    assert "--lat" in capsys.readouterr().err


@pytest.mark.parametrize(("lat", "lon"), [("33.5", "180"), ("48.85", "2.35"), ("-7.59", "33.57")])
def test_zone_preview_refuses_a_point_outside_the_service_area(
    capsys: pytest.CaptureFixture[str], lat: str, lon: str
) -> None:
    args = build_parser().parse_args(["zone", "preview", "--lat", lat, "--lon", lon])
    assert args.handler(Settings(), args) == 2
    assert "outside the service area" in capsys.readouterr().err


async def test_a_database_that_does_not_answer_is_one_line_and_exit_3() -> None:
    silent = f"postgresql+asyncpg://tifli:secret@127.0.0.1:{free_port()}/tifli"
    done = await tifli(silent, "deliveries", "list")
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1] == (
        f"tifli: the database {shown_url(silent)} does not answer (ConnectionRefusedError); "
        "try again once it is up"
    )
    assert "Traceback" not in done.stderr and "secret" not in done.stderr


async def test_a_sqlite_file_that_cannot_open_fails_at_once_rather_than_waiting(
    tmp_path: Path,
) -> None:
    """Only a database server is waited for: a wrong path does not fix itself."""
    done = await tifli(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'tifli.db'}", "run", "relay")
    assert done.returncode != 0
    assert "waiting for" not in done.stderr


async def test_a_sqlite_file_in_a_missing_folder_is_said_as_such(tmp_path: Path) -> None:
    """Not "no schema, pass --init", then, with --init, "does not answer": the folder."""
    missing = tmp_path / "missing"
    done = await tifli(f"sqlite+aiosqlite:///{missing / 'tifli.db'}", "keys", "list", "--init")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith(
        f"the folder {missing} does not exist; create it, or set TIFLI_DATABASE_URL to a "
        "file in a folder that does"
    )
    assert not missing.exists()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TIFLI_DATA_KEY": ""}, "TIFLI_DATA_KEY"),
        ({"TIFLI_CAP_SIGNING_KEY": ""}, "TIFLI_CAP_SIGNING_KEY"),
        ({"TIFLI_CAP_SIGNING_KEY": "x"}, "or neither"),
        # A typo in the data key is found at start-up, not at the first value sealed.
        ({"TIFLI_DATA_KEY": "not-a-fernet-key"}, "TIFLI_DATA_KEY: each comma-separated key"),
        ({"TIFLI_TERRITORY_REGIONS_FILE": "/nonexistent.geojson"}, "no such file"),
        # Without the regions file, another territory file would be ignored without a word.
        ({"TIFLI_TERRITORY_ALLOWED_AREAS_FILE": __file__}, "set that too"),
    ],
)
async def test_settings_a_process_cannot_start_with_are_one_line_and_exit_2(
    env: dict[str, str], named: str
) -> None:
    """What to set, said once, not at the end of a traceback. (No database is reached:
    ``--no-migrate``, and the API takes reports without the broker.)"""
    silent = f"postgresql+asyncpg://tifli@127.0.0.1:{free_port()}/tifli"
    unset = {"TIFLI_CAP_SIGNING_KEY": "", "TIFLI_CAP_SIGNING_CERTIFICATE": ""}
    settings = {"TIFLI_DATA_KEY": Sealer.new_key(), **unset, "TIFLI_CAP_UNSIGNED": "false"}
    done = await tifli(silent, "run", "intake-api", "--no-migrate", **(settings | env))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("tifli: ") and named in line


async def test_a_command_other_than_run_refuses_such_settings_the_same_way() -> None:
    """Every command that needs the data key says so in one line: an in-memory database
    has no file to keep the embedded mode's key beside."""
    done = await tifli(
        "sqlite+aiosqlite:///:memory:", "partners", "list", "--init", TIFLI_DATA_KEY=""
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "tifli: the embedded mode needs a SQLite file (or TIFLI_DATA_KEY)"
    )
    assert "Traceback" not in done.stderr
