from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alert_engine.locations import TrustedLocation
from alert_engine.models import Alert, ApprovedFacts
from alert_engine.service import case_state
from alert_engine.texts import CaseFacts, alert_info, arabic_years, cancel_info, fit
from shared.alert_contract import LANGUAGES, Language, Point, PublicChild


def _facts(description: str = "Short black hair", given_name: str = "Amina") -> CaseFacts:
    return CaseFacts(
        child=PublicChild(
            given_name=given_name,
            age=9,
            sex="female",
            description=description,
            clothing="Red jacket",
        ),
        place="Casablanca, Maarif",
        last_seen=datetime(2026, 6, 10, 15, 30, tzinfo=UTC),
        suspected_vehicle="Grey van (12345-A-6)",
        companion=None,
    )


def test_one_block_per_language_within_wea_limits() -> None:
    blocks = alert_info(_facts("x " * 1000), "Africa/Casablanca", status="Actual")
    assert [b.language for b in blocks] == list(LANGUAGES)
    for block in blocks:
        assert len(block.description) <= 360
        assert len(block.short_text) <= 90
        assert "Amina" in block.headline
        assert "19" in block.short_text or "19" in block.instruction


def test_local_time_and_scripts() -> None:
    by_language = {
        b.language: b for b in alert_info(_facts(), "Africa/Casablanca", status="Actual")
    }
    assert "2026-06-10 16:30" in by_language["en"].description  # UTC+1 in Morocco then
    assert "fille de 9 ans, vue pour" in by_language["fr"].description  # feminine agreement
    assert "طفلة عمرها 9 سنوات، شوهدت" in by_language["ar"].description
    # Date and hour apart: "2026-06-10 16:30" in a right-to-left line shows the hour first.
    # The date isolated left to right (LRI … PDI): after an Arabic word, its parts showed in
    # the opposite order ("29-11-2026").
    assert "يوم \u20662026-06-10\u2069 على الساعة 16:30." in by_language["ar"].description
    # A Latin name in an Arabic line is isolated (FSI … PDI): its own punctuation stays with it.
    assert by_language["ar"].headline.startswith("طفلة مختفية: \u2068Amina\u2069")
    assert "Red jacket. Suspected vehicle: Grey van (12345-A-6)." in by_language["en"].description
    tifinagh = [c for c in by_language["zgh"].headline if "TIFINAGH" in unicodedata.name(c, "")]
    assert len(tifinagh) > 10


def test_local_times_need_no_time_zone_files_from_the_system() -> None:
    """Slim container images carry no time zone files: then the texts' local times come from
    the tzdata package (an empty PYTHONTZPATH: no system directory is searched)."""
    told = (
        "from alert_engine.texts import alert_info; from tests.alert_engine.test_texts import"
        " _facts; print(alert_info(_facts(), 'Africa/Casablanca', status='Actual')[-1]"
        ".description)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", told],
        env={**os.environ, "PYTHONTZPATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "2026-06-10 16:30" in ran.stdout


def test_times_follow_morocco_back_on_utc_from_20_september_2026() -> None:
    """Morocco left UTC+1 for UTC+0 on 20 September 2026 (IANA 2026f); a host's older copy of
    the database (Debian's 2025b) still says UTC+1, an hour off in every text."""
    after = replace(_facts(), last_seen=datetime(2026, 11, 29, 15, 30, tzinfo=UTC))
    [english] = [
        b for b in alert_info(after, "Africa/Casablanca", status="Actual") if b.language == "en"
    ]
    assert "2026-11-29 15:30." in english.description
    before = replace(_facts(), last_seen=datetime(2026, 9, 19, 15, 30, tzinfo=UTC))
    [english] = [
        b for b in alert_info(before, "Africa/Casablanca", status="Actual") if b.language == "en"
    ]
    assert "2026-09-19 16:30." in english.description


def test_the_hour_a_clock_goes_back_is_told_apart_by_its_offset() -> None:
    """Morocco's clocks went back from 03:00 (UTC+1) to 02:00 (UTC+0) on 15 February 2026:
    02:30 was read twice, an hour apart. Each text says which; other hours are left plain."""

    def seen_at(hour: int, minute: int) -> dict[Language, str]:
        facts = replace(_facts(), last_seen=datetime(2026, 2, 15, hour, minute, tzinfo=UTC))
        return {
            b.language: b.description
            for b in alert_info(facts, "Africa/Casablanca", status="Actual")
        }

    first, second = seen_at(1, 30), seen_at(2, 30)
    assert "2026-02-15 02:30 UTC+1" in first["en"]
    assert "2026-02-15 02:30 UTC." in second["en"]
    assert "le 2026-02-15 02:30 UTC+1." in first["fr"]
    assert "على الساعة \u206802:30 UTC+1\u2069." in first["ar"]  # Latin isolated in Arabic
    assert "2026-02-15 01:59." in seen_at(0, 59)["en"]  # before the hour read twice
    assert "2026-02-15 03:00." in seen_at(3, 0)["en"]  # after it


def test_fit_cuts_at_a_word_with_an_ellipsis() -> None:
    assert fit("short text", 90) == "short text"
    cut = fit("word " * 50, 30)
    assert len(cut) <= 30
    assert cut.endswith("…")
    assert "wor…" not in cut


def test_cancel_carries_no_child_data() -> None:
    for block in cancel_info(status="Actual"):
        assert "Amina" not in block.description


def test_each_language_names_the_place_in_its_own_language() -> None:
    names: dict[Language, str] = {"ar": "طنجة", "fr": "Tanger", "en": "Tanger", "zgh": "ⵟⴰⵏⵊⴰ"}
    facts = replace(_facts(), place="Tanger", place_names=names)
    for block in alert_info(facts, "Africa/Casablanca", status="Actual"):
        assert names[block.language] in block.description
        assert names[block.language] in block.short_text
    arabic = next(
        b for b in alert_info(facts, "Africa/Casablanca", status="Actual") if b.language == "ar"
    )
    assert "Tanger" not in arabic.description and "Tanger" not in arabic.short_text


def test_without_known_names_the_place_is_named_as_typed() -> None:
    for block in alert_info(_facts(), "Africa/Casablanca", status="Actual"):
        assert "Casablanca, Maarif" in block.description


def test_a_sighting_s_place_names_reach_the_texts_of_later_versions() -> None:
    # Kept with the locations, the names are there when a timer re-composes the case.
    report = TrustedLocation(
        point=Point(lat=35.77, lon=-5.80),
        at=datetime(2026, 11, 29, 15, 0, tzinfo=UTC),
        place="Tanger",
        place_names={"ar": "طنجة", "fr": "Tanger"},
    )
    sighting = report.model_copy(
        update={
            "at": report.at + timedelta(minutes=30),
            "place": "الرباط",
            "place_names": {"ar": "الرباط", "en": "Rabat", "fr": "Rabat"},
            "sighting_id": "s1",
        }
    )
    alert = Alert(
        id="a1",
        report_id="r1",
        message_status="Actual",
        facts=ApprovedFacts(
            child=_facts().child,
            place="Tanger",
            suspected_vehicle=None,
            companion=None,
            photo_urls=[],
        ),
        locations=[report, sighting],
        travel_mode="vehicle",
        effective=report.at,
        expires=report.at + timedelta(hours=24),
    )
    by_language = {
        b.language: b
        for b in alert_info(case_state(alert).facts, "Africa/Casablanca", status="Actual")
    }
    assert "Rabat" in by_language["fr"].description and "الرباط" in by_language["ar"].description
    assert "Tanger" not in by_language["fr"].description


@pytest.mark.parametrize(
    ("age", "said"),
    [
        (0, "أقل من سنة"),
        (1, "سنة واحدة"),
        (2, "سنتان"),
        (3, "3 سنوات"),
        (10, "10 سنوات"),
        (11, "11 سنة"),
        (17, "17 سنة"),
    ],
)
def test_an_arabic_age_agrees_with_its_number(age: int, said: str) -> None:
    assert arabic_years(age) == said


def test_a_boy_is_seen_in_the_masculine() -> None:
    facts = _facts()
    boy = replace(facts, child=facts.child.model_copy(update={"sex": "male", "age": 12}))
    by_language = {b.language: b for b in alert_info(boy, "Africa/Casablanca", status="Actual")}
    assert "garçon de 12 ans, vu pour" in by_language["fr"].description
    assert by_language["ar"].headline.startswith("طفل مختفٍ: \u2068Amina\u2069، 12 سنة")
    assert "طفل عمره 12 سنة، شوهد آخر مرة" in by_language["ar"].description


@pytest.mark.parametrize(
    ("age", "sex", "place", "expected"),
    [
        (
            1,
            "female",
            "Agadir",
            {
                "fr": ["Enfant disparu : Amina, 1 an", "fille de 1 an, vue", "près d'Agadir."],
                "en": ["Missing child: Amina, 1", "a girl aged 1,", "near Agadir."],
                "ar": ["إذا رأيتم هذه الطفلة،"],
            },
        ),
        (
            0,
            "male",
            "Rabat",
            {
                "fr": ["Amina, moins d'un an", "garçon de moins d'un an, vu", "près de Rabat."],
                "en": ["Missing child: Amina, under 1", "a boy aged under 1,"],
                "ar": ["إذا رأيتم هذا الطفل،"],
            },
        ),
        (7, "female", "Oujda", {"fr": ["7 ans", "près d'Oujda."], "en": ["a girl aged 7,"]}),
    ],
)
def test_ages_places_and_the_child_agree_in_each_language(
    age: int, sex: str, place: str, expected: dict[str, list[str]]
) -> None:
    facts = _facts()
    child = facts.child.model_copy(update={"age": age, "sex": sex})
    blocks = alert_info(
        replace(facts, child=child, place=place), "Africa/Casablanca", status="Actual"
    )
    texts: dict[str, str] = {
        b.language: " ".join([b.headline, b.description, b.short_text, b.instruction])
        for b in blocks
    }
    for language, phrases in expected.items():
        for phrase in phrases:
            assert phrase in texts[language], (language, phrase, texts[language])
    assert " 0 ans" not in texts["fr"] and " 1 ans" not in texts["fr"]
    assert "0-year-old" not in texts["en"]


def test_typed_text_of_the_other_direction_is_isolated_and_only_that() -> None:
    """Unisolated, "Short black hair, 130 cm" in an Arabic line shows its comma and number
    among the Arabic words around it; an Arabic name in a French line, the reverse."""
    facts = replace(_facts("Short black hair, 130 cm", given_name="أمينة"), place="Tanger")
    by_language = {b.language: b for b in alert_info(facts, "Africa/Casablanca", status="Actual")}
    arabic, french = by_language["ar"].description, by_language["fr"].description
    assert "\u2068Short black hair, 130 cm\u2069." in arabic
    assert "\u2068Red jacket\u2069" in arabic
    assert "أمينة،" in arabic  # the same direction: as typed
    assert french.startswith("\u2068أمينة\u2069, fille de 9 ans")
    assert "Short black hair, 130 cm." in french and "\u2068Short" not in french


def test_an_isolated_sentence_keeps_one_full_stop_and_a_cut_closes_its_isolate() -> None:
    facts = _facts("Short black hair.")
    [arabic] = [
        b for b in alert_info(facts, "Africa/Casablanca", status="Actual") if b.language == "ar"
    ]
    assert "\u2068Short black hair\u2069." in arabic.description
    assert "\u2069.." not in arabic.description and ".\u2069." not in arabic.description

    long = _facts("Short black hair, brown eyes, about 130 cm, " * 12)
    for block in alert_info(long, "Africa/Casablanca", status="Actual"):
        for text, limit in ((block.description, 360), (block.short_text, 90)):
            assert len(text) <= limit
            opened = text.count("\u2068") + text.count("\u2066")  # first-strong, left-to-right
            assert opened == text.count("\u2069"), (block.language, text)


def test_a_long_description_gives_way_to_the_vehicle_and_the_companion() -> None:
    """What the public can act on survives the cut: the plate, who is with the child. (A
    realistic description pushed both out of every labelled language.)"""
    facts = replace(
        _facts(
            "Slim build, about 1.30 m, long curly black hair tied in a ponytail, brown eyes, "
            "small birthmark on the right cheek, missing front tooth " * 2
        ),
        suspected_vehicle="White Dacia Logan (48213-B-1)",
        companion="An adult man, about 40, grey beard",
    )
    for status in ("Actual", "Exercise"):
        for block in alert_info(facts, "Africa/Casablanca", status=status):
            assert len(block.description) <= 360, block
            assert "48213-B-1" in block.description, block.description
            assert "grey beard" in block.description, block.description
            assert "Slim build" in block.description  # the looks, cut, still begin it
            assert "…" in block.description
            # The clothing, with no room left, goes whole: not its label alone.
            assert not any(
                label in block.description for label in ("Clothing", "Vêtements", "الملابس")
            ), block.description


def test_the_short_text_keeps_the_number_to_call() -> None:
    """Cut to 90 characters, the short text shortens the place, then the name: its end says
    whom to call."""
    facts = replace(
        _facts(given_name="Mohamed-Yassine"),
        place="Sidi Allal El Bahraoui",
        place_names={},
    )
    child = facts.child.model_copy(update={"given_name": "Yasmine-Fatima-Zahra"})
    long_name = replace(facts, child=child)
    for case in (facts, long_name):
        for status in ("Actual", "Exercise"):
            for block in alert_info(case, "Africa/Casablanca", status=status):
                assert len(block.short_text) <= 90, block.short_text
                assert block.short_text.rstrip("\u2069").endswith("19"), block.short_text


def test_a_region_told_after_a_namesake_goes_before_the_short_text_cuts_it() -> None:
    """The region after a place's name tells namesakes apart: the long text keeps it; a short
    text without room for it names the place whole rather than cut mid-region."""
    names: dict[Language, str] = {
        "ar": "إفران (بني ملال-خنيفرة)",
        "fr": "Ifrane (Béni Mellal-Khénifra)",
        "en": "Ifrane (Béni Mellal-Khénifra)",
        "zgh": "ⵉⴼⵔⴰⵏ (Béni Mellal-Khénifra)",
    }
    roomy = replace(_facts(), place="Ifrane", place_names=names)
    child = roomy.child.model_copy(update={"given_name": "Yasmine-Fatima-Zahra"})
    for facts in (roomy, replace(roomy, child=child)):
        for block in alert_info(facts, "Africa/Casablanca", status="Actual"):
            assert names[block.language] in block.description
            assert len(block.short_text) <= 90, block.short_text
            bare = names[block.language].split(" (")[0]
            # Whole, or the place alone: never a region cut short ("(Béni Mel…").
            assert bare in block.short_text, block.short_text
            assert "…" not in block.short_text, block.short_text
            if names[block.language] not in block.short_text:
                assert "(" not in block.short_text, block.short_text
    # With room, the short text keeps the region too (it fits for a short name).
    english = next(
        b for b in alert_info(roomy, "Africa/Casablanca", status="Actual") if b.language == "en"
    )
    assert names["en"] in english.short_text, english.short_text


def test_an_unnamed_place_reads_as_a_sentence() -> None:
    """A point with no town near it: the French needs its article ("près de lieu non
    précisé" is not French)."""
    blocks = {
        b.language: b
        for b in alert_info(replace(_facts(), place=None), "Africa/Casablanca", status="Actual")
    }
    assert "vue pour la dernière fois à un lieu non précisé le" in blocks["fr"].description
    assert "près d'un lieu non précisé." in blocks["fr"].short_text
    assert "missing near an unspecified place." in blocks["en"].short_text
