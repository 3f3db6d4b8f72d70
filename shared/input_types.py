"""Field types for request bodies that take what a client sent at its word, or refuse it.

FastAPI validates a parsed JSON body as Python data, where pydantic's lax mode converts: the
string "yes" would become consent, ``false`` a longitude of 0, ``9`` in quotes an age, a bare
number a date. These types refuse every conversion (422 naming the field) but the ones JSON
forces on us: an integer where a number is expected, an ISO 8601 string for a time. Texts
refuse control characters: a NUL or an escape sequence in a name would travel to partners,
terminals and CAP documents that each treat it differently. Nor may they hold the Unicode
characters that reorder or break what is displayed after them (bidirectional overrides and
isolates, line and paragraph separators, a byte-order mark): a name ending in a right-to-left
override would reverse the rest of an alert's headline on every partner's screen.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AllowInfNan,
    AwareDatetime,
    BeforeValidator,
    Strict,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

# C0 and C1 controls, DEL, and lone surrogates (JSON's "\ud800" escapes decode to them, and
# no UTF-8 encoder downstream can write them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, less the line breaks and tab a paragraph of free text may hold (CR only in CRLF).
_CONTROL_IN_PARAGRAPH = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)")
# Embeddings and overrides (U+202A–E), isolates (U+2066–9), line and paragraph separators,
# the byte-order mark. The marks mixed Arabic and Latin text needs (U+200E, U+200F, U+061C)
# and the joiners scripts and emoji need (U+200C, U+200D) stay allowed.
_LAYOUT = re.compile(r"[\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")
# The other invisible format characters (Unicode category Cf): zero-width space, word joiner,
# soft hyphen, invisible operators… Inside a name they make it look like another one; alone,
# like none. The marks and joiners above are the ones text needs.
_FORMAT_NEEDED = frozenset("\u200c\u200d\u200e\u200f\u061c")
# Letters and symbols that draw nothing (Unicode's default-ignorable Hangul fillers, the blank
# braille pattern): the same deceit as the format characters, under another category.
_DRAWS_NOTHING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Unicode's other default-ignorable marks, which draw nothing either: the combining grapheme
# joiner, Khmer's inherent vowels, Mongolian's variation selectors, and the variation
# selectors but the two that choose an emoji's or a text's look (U+FE0E, U+FE0F) and the
# ideographic ones (a Japanese name may need them); the specials' placeholders (the object
# replacement character, the replacement character a failed decoding leaves); and the
# noncharacters, which no text holds. (Not every code point this Python does not know: a
# newer emoji must not be refused by one API process and taken by another.)
_IGNORED = re.compile(
    "[\u034f\u17b4\u17b5\u180b-\u180f\ufe00-\ufe0d\ufdd0-\ufdef\ufff0-\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U000efffe\U000effff"
    "\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
# What a reader sees: letters, numbers, punctuation, symbols; not the Arabic tatweel, which
# only stretches the letters beside it (a name of tatweels alone is a line).
_VISIBLE = frozenset("LNPS")
_STRETCH = "\u0640"


# Validation context for content read back from storage: it was checked when it came in, by
# the rules of that day; rules added since, or checks against "now", must not make it
# unreadable. ``Model.model_validate(data, context=STORED)``.
STORED: dict[str, bool] = {"stored": True}


def read_back(info: ValidationInfo) -> bool:
    """Whether the data being validated is read back from storage (``STORED``)."""
    return bool(info.context and info.context.get("stored"))


def _refusing(pattern: re.Pattern[str], allowed: str) -> AfterValidator:
    def check(value: str, info: ValidationInfo) -> str:
        if read_back(info):
            return value
        if pattern.search(value):
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters{allowed}",
                {"allowed": allowed},
            )
        if _LAYOUT.search(value):
            raise PydanticCustomError(
                "layout_character",
                "must not contain bidirectional override, isolate, line or paragraph "
                "separator characters",
            )
        categories = [unicodedata.category(c) for c in value]
        if _IGNORED.search(value) or any(
            (k == "Cf" and c not in _FORMAT_NEEDED) or c in _DRAWS_NOTHING
            for c, k in zip(value, categories, strict=True)
        ):
            raise PydanticCustomError(
                "invisible_character",
                "must not contain invisible characters or noncharacters (zero-width space, "
                "word joiner, soft hyphen, variation selectors, …)",
            )
        if value and not any(
            k[0] in _VISIBLE and c != _STRETCH for c, k in zip(value, categories, strict=True)
        ):
            raise PydanticCustomError("blank_text", "must contain a visible character")
        return value

    return AfterValidator(check)


# Put after a str's StringConstraints (so that length errors keep their own wording):
# ``Annotated[str, StringConstraints(max_length=100), SINGLE_LINE]``.
# One line of text: a name, a phone number, a place, a URL, a token.
SINGLE_LINE = _refusing(_CONTROL, "")
# Free text: a description, circumstances, a note; newline (LF or CRLF) and tab allowed.
PARAGRAPH = _refusing(_CONTROL_IN_PARAGRAPH, " other than newline (LF or CRLF) and tab")

# A JSON number (integer or not), finite: never a boolean, a string or NaN/Infinity (which
# Python's JSON parser accepts although JSON has no such values).
Number = Annotated[float, Strict(), AllowInfNan(False)]
# A JSON integer: not 9.0, not "9", not true.
Integer = Annotated[int, Strict()]
# true or false, never "yes", 1 or "true".
Flag = Annotated[bool, Strict()]


def inner_field_error(field: str, message: str) -> PydanticCustomError:
    """An error a model's own validator finds in one of its fields, raised so that the
    problem names that field ("child.birth_date"), not the model ("child"): a check across
    fields runs on the model, but one field is at fault."""
    return PydanticCustomError(
        "inner_field", "{field}: {message}", {"field": field, "message": message}
    )


# A whole number in a query string is text: Python's int() would take "1_0", "+5", " 1" or
# (through a float) "1.0". Only digits are a number there.
_DIGITS = re.compile(r"[0-9]+")


def _digits_only(value: Any) -> Any:
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise PydanticCustomError("whole_number", "give a whole number in digits, such as 10")
    return value


# After ``Query(...)`` (or ``Path(...)``) in a parameter's ``Annotated``.
QUERY_DIGITS = BeforeValidator(_digits_only)

# Pydantic's lax mode reads a bare number, or a string of digits, as Unix time; and a
# date-time at midnight as a date ("2026-11-29T00:00:00Z": midnight in which zone?).
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ].*")


def _iso_text(example: str, form: re.Pattern[str]) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, date):  # built in code (or read back), not sent by a client
            return value
        if isinstance(value, str) and form.fullmatch(value):
            return value
        raise PydanticCustomError(
            "iso_8601", "give an ISO 8601 string, such as {example}", {"example": example}
        )

    return BeforeValidator(check)


IsoDate = Annotated[date, _iso_text("2026-11-29", _ISO_DATE)]
# With its time zone, as the example shows: a time without one is refused too.
IsoDateTime = Annotated[AwareDatetime, _iso_text("2026-11-29T10:00:00Z", _ISO_DATE_TIME)]
