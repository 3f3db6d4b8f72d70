"""``tifli demo`` runs a whole Exercise case on this machine, as a newcomer would run it."""

from __future__ import annotations

import inspect
import xml.etree.ElementTree as ET
from pathlib import Path

from services.demo import partner_recipe
from services.testbed.backing_servers import ROOT
from tests.services.cli_runner import tifli

README = (ROOT / "README.md").read_text()


async def test_the_drill_runs_from_report_to_cancel(tmp_path: Path) -> None:
    picture = tmp_path / "zone.svg"
    # The database setting is the operator's: the drill must not touch it.
    operators = tmp_path / "operators.db"
    done = await tifli(f"sqlite+aiosqlite:///{operators}", "demo", "-o", str(picture))
    assert done.returncode == 0, done.stdout + done.stderr
    transcript = done.stdout
    for event in ("alert.issued", "alert.updated", "alert.cancelled"):
        assert f"partner received {event}" in transcript
    verified = (
        "signature verified with the README's recipe: webhook-signature ok, X-Hub-Signature-256 ok"
    )
    assert transcript.count(verified) == 3
    assert "WRONG" not in transcript
    assert "status Exercise" in transcript
    assert "last seen in تطوان" in transcript
    assert "the Cancel carries no child data" in transcript
    assert "approval → signed alert at the partner" in transcript.split("Summary")[1]
    assert ET.parse(picture).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert not operators.exists()


def test_the_drill_checks_with_the_readmes_recipe_word_for_word() -> None:
    start = README.index("```python\nimport base64, hashlib, hmac, time")
    recipe = README[start + len("```python\n") : README.index("```\n", start + 10)]
    assert recipe.strip() in inspect.getsource(partner_recipe)


def test_start_here_mentions_the_drill() -> None:
    start_here = README[README.index("## Start here") : README.index("### Take a case through")]
    assert "tifli demo" in start_here
