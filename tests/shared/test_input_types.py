from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, StringConstraints, ValidationError

from shared.input_types import (
    PARAGRAPH,
    SINGLE_LINE,
    STORED,
    Flag,
    Integer,
    IsoDate,
    IsoDateTime,
    Number,
)


class Form(BaseModel):
    line: Annotated[str, StringConstraints(max_length=20), SINGLE_LINE] | None = None
    paragraph: Annotated[str, PARAGRAPH] | None = None
    number: Number | None = None
    integer: Integer | None = None
    flag: Flag | None = None
    day: IsoDate | None = None
    moment: IsoDateTime | None = None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("line", "a\x00b"),
        ("line", "a\nb"),
        ("line", "a\tb"),
        ("line", "a\x7fb"),
        ("line", "a\x9bb"),  # C1 control sequence introducer
        ("line", "\udc80"),
        ("line", 7),
        ("line", "x" * 21),
        ("paragraph", "a\x00b"),
        ("paragraph", "\x1b[2J"),
        ("paragraph", "a\x0cb"),  # form feed
        # Invisible: nothing a reader sees, or a name that looks like another one.
        ("line", "\u200b"),  # zero-width space alone
        ("line", "Amina\u180e"),  # Mongolian vowel separator
        ("line", "Ami\u00adna"),  # soft hyphen
        ("line", "\u0301"),  # a combining accent on nothing
        ("paragraph", "\u2060 \u2060"),
        # Letters and symbols that draw nothing: a name of them looks blank, or like another.
        ("line", "\u3164"),  # Hangul filler alone
        ("line", "Amina\u3164"),
        ("line", "\uffa0\u115f\u1160"),  # the halfwidth and jamo fillers
        ("paragraph", "\u2800"),  # the blank braille pattern
        # Unicode's other default-ignorables, and what no font draws as a letter.
        ("line", "Ami\u034fna"),  # combining grapheme joiner
        ("line", "Amina\ufe00"),  # a variation selector that chooses no emoji's look
        ("line", "Amina\u17b4"),  # a Khmer inherent vowel
        ("line", "Amina\ufdd0"),  # a noncharacter
        ("line", "Amina\uffff"),
        ("line", "Amina\U0010fffe"),
        ("line", "\ufffc\ufffc"),  # object replacement characters
        ("line", "Am\ufffdna"),  # what a failed decoding leaves
        ("line", "\u0640\u0640\u0640"),  # tatweels alone: a line, no letter
        ("number", True),
        ("number", "1.5"),
        ("number", float("nan")),
        ("number", float("inf")),
        ("integer", 9.0),
        ("integer", "9"),
        ("integer", False),
        ("flag", "yes"),
        ("flag", "true"),
        ("flag", 1),
        ("day", 0),
        ("day", "20261129"),
        ("day", "2026-11-29T00:00:00Z"),  # midnight, but in which zone? A date is a date
        ("day", "2026-11-29 "),
        ("moment", 1_780_000_000),
        ("moment", 1_780_000_000.5),
        ("moment", "1780000000"),
        ("moment", "2026-11-29T10:00:00"),  # no time zone
    ],
)
def test_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        Form.model_validate({field: value})
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    ("field", "value", "read"),
    [
        ("line", "ⵜⵉⵍⴻⵍⵍⵉ — بن علي", "ⵜⵉⵍⴻⵍⵍⵉ — بن علي"),
        ("line", "a\u200db", "a\u200db"),  # a joiner: a format character, needed in scripts
        ("line", "\u200fعلي", "\u200fعلي"),  # a right-to-left mark: mixed text needs it
        ("line", "محـــمد", "محـــمد"),  # tatweels stretching a name's letters
        ("paragraph", "Cartable \u2764\ufe0f", "Cartable \u2764\ufe0f"),  # an emoji's look
        ("line", "\u845b\U000e0100", "\u845b\U000e0100"),  # an ideographic variation
        # A code point this Python may not know yet (Unicode 15's pink heart): not refused.
        ("paragraph", "Cartable \U0001fa77", "Cartable \U0001fa77"),
        ("line", "", ""),  # empty is for the field's own length rule to judge
        ("paragraph", "one\r\ntwo\tthree\n", "one\r\ntwo\tthree\n"),
        ("number", 3, 3.0),
        ("number", -7.25, -7.25),
        ("integer", 9, 9),
        ("flag", False, False),
        ("day", "2017-03-01", date(2017, 3, 1)),
        ("day", date(2017, 3, 1), date(2017, 3, 1)),
        ("moment", "2026-11-29T10:00:00Z", datetime.fromisoformat("2026-11-29T10:00:00+00:00")),
    ],
)
def test_accepted(field: str, value: Any, read: Any) -> None:
    assert getattr(Form.model_validate({field: value}), field) == read


def test_a_text_read_back_from_storage_is_not_checked_again() -> None:
    """Stored under older rules (a line separator, a lone CR were once accepted): it must
    still read back, or every read of that case would fail."""
    stored = {"line": "Red\u2028jacket", "paragraph": "Short hair\rbrown eyes"}
    with pytest.raises(ValidationError):
        Form.model_validate(stored)
    read = Form.model_validate(stored, context=STORED)
    assert (read.line, read.paragraph) == (stored["line"], stored["paragraph"])


def test_a_bad_time_is_shown_the_form_it_needs_with_its_zone() -> None:
    with pytest.raises(ValidationError) as moment:
        Form.model_validate({"moment": "yesterday"})
    with pytest.raises(ValidationError) as day:
        Form.model_validate({"day": "yesterday"})
    assert "2026-11-29T10:00:00Z" in moment.value.errors()[0]["msg"]
    assert day.value.errors()[0]["msg"].endswith("such as 2026-11-29")
