"""Drills marked in every text: an Exercise or Test alert (and its end) says so at the start of
every headline, description and short text, in every language, within the WEA limits; an
Actual alert carries no marker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from alert_engine.texts import (
    LONG_LIMIT,
    SHORT_LIMIT,
    CaseFacts,
    alert_info,
    cancel_info,
    drill_marker,
)
from shared.alert_contract import LANGUAGES, InfoBlock, MessageStatus, PublicChild

DRILLS: tuple[MessageStatus, ...] = ("Exercise", "Test")
ZONE = "Africa/Casablanca"


def _words(word: str, limit: int) -> str:
    """Text of ``word`` repeated with spaces, at most ``limit`` characters long."""
    return ((word + " ") * limit)[:limit].strip()


def _unbroken(word: str, limit: int) -> str:
    """One run of ``limit`` characters: no space to cut at."""
    return (word * limit)[:limit]


def _longest(word: str, make: Callable[[str, int], str]) -> dict[str, str]:
    # The longest inputs intake accepts (intake_api/schemas.py: names 100, short texts 500,
    # free texts 2000, a plate 20).
    return {
        "name": make(word, 100),
        "place": make(word, 500),
        "description": make(word, 2000),
        "clothing": make(word, 500),
        "vehicle": f"{make(word, 500)} ({'1' * 20})",
        "companion": make(word, 100),
    }


# In each script the alerts carry, as words, and as one unbroken run.
LONGEST: dict[str, dict[str, str]] = {
    "latin": _longest("Abdelkarim-Benmoussa", _words),
    "arabic": _longest("عبد-الكريم", _words),
    "tifinagh": _longest("ⴰⵎⵖⴰⵔ", _words),
    "unbroken": _longest("x", _unbroken),
}


def _facts(texts: dict[str, str]) -> CaseFacts:
    return CaseFacts(
        child=PublicChild(
            given_name=texts["name"],
            age=17,
            sex="female",
            description=texts["description"],
            clothing=texts["clothing"],
        ),
        place=texts["place"],
        last_seen=datetime(2026, 11, 29, 15, 30, tzinfo=UTC),
        suspected_vehicle=texts["vehicle"],
        companion=texts["companion"],
        # A place named in each language's own script, as the gazetteer gives them.
        place_names={language: texts["place"] for language in LANGUAGES},
    )


def _texts(block: InfoBlock) -> list[tuple[str, str, int]]:
    return [
        ("headline", block.headline, SHORT_LIMIT),
        ("description", block.description, LONG_LIMIT),
        ("short_text", block.short_text, SHORT_LIMIT),
    ]


def _blocks(status: MessageStatus, texts: dict[str, str]) -> list[InfoBlock]:
    return [*alert_info(_facts(texts), ZONE, status=status), *cancel_info(status=status)]


@pytest.mark.parametrize("status", DRILLS)
@pytest.mark.parametrize("inputs", sorted(LONGEST))
def test_every_drill_text_starts_with_its_marker_and_fits(
    status: MessageStatus, inputs: str
) -> None:
    blocks = _blocks(status, LONGEST[inputs])
    assert sorted({b.language for b in blocks}) == sorted(LANGUAGES)
    for block in blocks:
        marker = drill_marker(block.language, status)
        assert marker is not None
        for field, text, limit in _texts(block):
            assert text.startswith(marker + " "), (block.language, field, text)
            assert len(text) <= limit, (block.language, field, len(text))
            assert len(text) > len(marker) + 1, (block.language, field)  # something follows


@pytest.mark.parametrize("status", DRILLS)
def test_a_short_drill_keeps_its_whole_text_after_the_marker(status: MessageStatus) -> None:
    short = {"name": "Amina", "place": "Maarif", "description": "Short black hair",
             "clothing": "Red jacket", "vehicle": "Grey van", "companion": "A man"}  # fmt: skip
    real = {b.language: b for b in alert_info(_facts(short), ZONE, status="Actual")}
    for block in alert_info(_facts(short), ZONE, status=status):
        marker = drill_marker(block.language, status)
        assert block.headline == f"{marker} {real[block.language].headline}"
        assert block.short_text == f"{marker} {real[block.language].short_text}"


def test_exercise_and_test_are_told_apart_in_every_language() -> None:
    for language in LANGUAGES:
        assert drill_marker(language, "Exercise") != drill_marker(language, "Test")


@pytest.mark.parametrize("inputs", sorted(LONGEST))
def test_a_real_alert_carries_no_marker(inputs: str) -> None:
    markers = {drill_marker(language, status) for language in LANGUAGES for status in DRILLS}
    for block in _blocks("Actual", LONGEST[inputs]):
        assert drill_marker(block.language, "Actual") is None
        for field, text, limit in _texts(block):
            assert len(text) <= limit, (block.language, field)
            assert not any(marker and marker in text for marker in markers), (field, text)
