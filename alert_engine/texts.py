"""Alert texts in Arabic, French, Standard Moroccan Amazigh (Tifinagh) and English.

Fixed templates, as WEA uses, rather than free translation: a reviewed sentence per language
with the case's facts slotted in. The place is named in each text's own language when the
gazetteer knows it (``CaseFacts.place_names``), else as typed. Lengths are the WEA limits:
360 characters for the long text, 90 for the headline and the short one; a text that would be
longer is cut at a word with an ellipsis.

A drill (status Exercise or Test) says so at the start of every headline, description and
short text, in the text's own language: a partner that shows only the text must not make a
drill look real. The marker is kept whole and the rest is shortened to fit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from shared.alert_contract import (
    LANGUAGES,
    InfoBlock,
    Language,
    MessageStatus,
    PublicChild,
    Sex,
)
from shared.time_zones import time_zone

LONG_LIMIT = 360
SHORT_LIMIT = 90


# What opens every text of a drill, per language and status. The Tifinagh word (ⴰⵔⵎⵎ, "trial")
# is followed by the French one that Moroccan readers of Amazigh also read, until a reviewed
# Amazigh term for each status replaces the pair.
DRILL_MARKERS: dict[Language, dict[MessageStatus, str]] = {
    "ar": {"Exercise": "تمرين:", "Test": "اختبار:"},
    "fr": {"Exercise": "EXERCICE :", "Test": "TEST :"},
    "zgh": {"Exercise": "ⴰⵔⵎⵎ EXERCICE:", "Test": "ⴰⵔⵎⵎ TEST:"},
    "en": {"Exercise": "EXERCISE:", "Test": "TEST:"},
}


def drill_marker(language: Language, status: MessageStatus) -> str | None:
    """What opens each text of an alert with ``status`` (None: a real alert)."""
    return DRILL_MARKERS[language].get(status)


@dataclass(frozen=True)
class Template:
    headline: str
    description: str
    short: str
    instruction: str
    cancel_headline: str
    cancel_description: str
    sex_words: dict[Sex, str]
    # "Missing child" agreeing with the child's sex, where the language marks it.
    missing_words: dict[Sex, str]
    # An age in words, agreeing with its number ("1 an", "2 ans"; سنة واحدة, سنتان, …).
    years: Callable[[int], str]
    # "This child" agreeing with the child's sex, where the language marks it (Arabic).
    this_child: dict[Sex, str]
    clothing: str
    vehicle: str
    companion: str
    somewhere: str
    # CAP's ``event`` and a photo's ``resourceDesc``, in the block's own language: a CAP
    # consumer shows them with that block's texts.
    event: str
    photo: str


TEMPLATES: dict[Language, Template] = {
    "ar": Template(
        headline="{missing}: {name}، {years}",
        # Arabic agrees verb and pronoun with the child's sex: the whole phrase is per sex.
        # The date and the hour apart, an Arabic word between them: written "date time",
        # two runs of digits in a right-to-left line would show in the opposite order.
        description="{name}، {sex} في {place} يوم {date} على الساعة {clock}. {details}",
        short="إنذار {missing}: {name}، {years}، قرب {place}. اتصلوا بالرقم 19",
        instruction="إذا رأيتم {this_child}، اتصلوا بالشرطة على الرقم 19. لا تتدخلوا بأنفسكم.",
        cancel_headline="انتهى الإنذار",
        cancel_description="انتهى إنذار الطفل المختفي. يرجى سحبه وحذف بيانات الطفل وعدم مشاركته.",
        sex_words={
            "female": "طفلة عمرها {years}، شوهدت آخر مرة",
            "male": "طفل عمره {years}، شوهد آخر مرة",
            "unknown": "طفل عمره {years}، شوهد آخر مرة",
        },
        missing_words={"female": "طفلة مختفية", "male": "طفل مختفٍ", "unknown": "طفل مختفٍ"},
        years=lambda age: arabic_years(age),
        this_child={"female": "هذه الطفلة", "male": "هذا الطفل", "unknown": "هذا الطفل"},
        clothing="الملابس: {}",
        vehicle="المركبة المشتبه بها: {}",
        companion="المرافق: {}",
        somewhere="موقع غير محدد",
        event="إنذار طفل مختفٍ",
        photo="صورة الطفل المختفي",
    ),
    "fr": Template(
        headline="Enfant disparu : {name}, {years}",
        description="{name}, {sex} pour la dernière fois à {place} le {time}. {details}",
        short="Alerte enfant disparu : {name}, {years}, près {de_place}. Appelez le 19",
        instruction="Si vous voyez cet enfant, appelez la police au 19. "
        "N'intervenez pas vous-même.",
        cancel_headline="Fin de l'alerte",
        cancel_description="L'alerte enfant disparu est terminée. Retirez-la, supprimez "
        "les données de l'enfant et ne la partagez plus.",
        # The participle agrees with the child's sex (an "enfant" of unknown sex: masculine).
        sex_words={
            "female": "fille {of_years}, vue",
            "male": "garçon {of_years}, vu",
            "unknown": "enfant {of_years}, vu",
        },
        missing_words={},
        years=lambda age: "moins d'un an" if age < 1 else f"{age} an{'s' if age > 1 else ''}",
        this_child={},
        clothing="Vêtements : {}",
        vehicle="Véhicule suspect : {}",
        companion="Accompagnant : {}",
        somewhere="un lieu non précisé",
        event="Alerte enfant disparu",
        photo="Photo de l'enfant disparu",
    ),
    "zgh": Template(
        headline="ⴰⴼⵔⵓⵅ ⵉⵜⵜⵓⵙⵉⴳⵍⵏ: {name}, {age} ⵏ ⵓⵙⴳⴳⵯⴰⵙ",
        description="{name}, {sex}, {age} ⵏ ⵓⵙⴳⴳⵯⴰⵙ, ⵉⵜⵜⵡⴰⵥⵕⴰ ⴳ {place} ⴳ {time}. {details}",
        short="ⴰⵍⵖⵓ: {name}, {age} ⵏ ⵓⵙⴳⴳⵯⴰⵙ, {place}. ⵙⵉⵡⵍ ⵖⵔ 19",
        instruction="ⵎⴽ ⵜⵥⵕⵉⴷ ⴰⴼⵔⵓⵅ ⴰ, ⵙⵉⵡⵍ ⵖⵔ 19.",
        cancel_headline="ⵉⴽⵎⵍ ⵓⵍⵖⵓ",
        cancel_description="ⵉⴽⵎⵍ ⵓⵍⵖⵓ. ⴽⴽⵙ ⵜ.",
        sex_words={"female": "ⵜⴰⴼⵔⵓⵅⵜ", "male": "ⴰⴼⵔⵓⵅ", "unknown": "ⴰⴼⵔⵓⵅ"},
        missing_words={},
        years=str,
        this_child={},
        clothing="{}",
        vehicle="{}",
        companion="{}",
        somewhere="ⴰⴷⵖⴰⵔ ⵓⵔ ⵉⵜⵜⵓⵙⵙⴰⵏ",  # "a place not known": to review with the other texts
        event="ⴰⵍⵖⵓ: ⴰⴼⵔⵓⵅ ⵉⵜⵜⵓⵙⵉⴳⵍⵏ",  # the short text's and the headline's words
        photo="ⵜⴰⵡⵍⴰⴼⵜ ⵏ ⵓⴼⵔⵓⵅ",
    ),
    "en": Template(
        headline="Missing child: {name}, {years}",
        description="{name}, a {sex} aged {years}, was last seen in {place} on {time}. {details}",
        short="Child alert: {name}, {years}, missing near {place}. Call 19",
        instruction="If you see this child, call the police on 19. Do not intervene yourself.",
        cancel_headline="Alert over",
        cancel_description="The missing-child alert is over. Take it down, delete the child's "
        "data and stop sharing it.",
        sex_words={"female": "girl", "male": "boy", "unknown": "child"},
        missing_words={},
        years=lambda age: "under 1" if age < 1 else str(age),
        this_child={},
        clothing="Clothing: {}",
        vehicle="Suspected vehicle: {}",
        companion="Companion: {}",
        somewhere="an unspecified place",
        event="Child Abduction Emergency",  # the AMBER Alert's event name (CAP's own example)
        photo="Photo of the missing child",
    ),
}


def fit(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary, marking the cut with '…'. An
    isolate the cut leaves open is closed before the mark: what a partner puts after the
    text must not fall into it."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = limit - 1
    while True:
        cut = text[:room]
        if " " in cut[limit // 2 :]:
            cut = cut[: cut.rfind(" ")]
        cut = cut.rstrip(" ,.;:،")
        still_open = cut.count(_FIRST_STRONG_ISOLATE) - cut.count(_POP_DIRECTIONAL_ISOLATE)
        if len(cut) + still_open < limit or room <= 1:
            return cut + _POP_DIRECTIONAL_ISOLATE * still_open + "…"
        room -= still_open


def fit_marked(text: str, limit: int, marker: str | None) -> str:
    """``fit``, with ``marker`` (when there is one) kept whole in front: the text shortens."""
    if marker is None:
        return fit(text, limit)
    return f"{marker} {fit(text, limit - len(marker) - 1)}"


@dataclass(frozen=True)
class CaseFacts:
    child: PublicChild
    place: str | None
    last_seen: datetime
    suspected_vehicle: str | None
    companion: str | None
    place_names: Mapping[Language, str] = field(default_factory=dict)  # ``place`` per language


def alert_info(facts: CaseFacts, timezone: str, *, status: MessageStatus) -> list[InfoBlock]:
    """One info block per alert language, the case's facts in each template, within WEA's
    lengths."""
    local = facts.last_seen.astimezone(time_zone(timezone))
    return [_info_block(language, facts, local, status) for language in LANGUAGES]


def _info_block(
    language: Language, facts: CaseFacts, local: datetime, status: MessageStatus
) -> InfoBlock:
    t = TEMPLATES[language]
    marker = drill_marker(language, status)
    room = {limit: limit - (len(marker) + 1 if marker else 0) for limit in _LIMITS}
    isolate = partial(in_line, right_to_left=language in RIGHT_TO_LEFT)
    inline = partial(_clause, right_to_left=language in RIGHT_TO_LEFT)
    # What the public can act on (a vehicle, its plate, who is with the child) is kept
    # whole; the child's looks give way when the description is too long.
    looks = [
        _sentence(inline(facts.child.description)) if facts.child.description else "",
        _sentence(t.clothing.format(inline(facts.child.clothing))) if facts.child.clothing else "",
    ]
    essentials = [
        _sentence(t.vehicle.format(inline(facts.suspected_vehicle)))
        if facts.suspected_vehicle
        else "",
        _sentence(t.companion.format(inline(facts.companion))) if facts.companion else "",
    ]
    years = t.years(facts.child.age)

    def slots(name: str, place: str, details: str = "") -> dict[str, object]:
        shown = isolate(place)
        return {
            "name": isolate(name),
            "age": facts.child.age,
            "years": years,
            "missing": t.missing_words.get(facts.child.sex, ""),
            "sex": t.sex_words[facts.child.sex].format(
                age=facts.child.age, years=years, of_years=french_of(years)
            ),
            "this_child": t.this_child.get(facts.child.sex, ""),
            "place": shown,
            "de_place": french_of(shown),
            "time": f"{local.strftime('%Y-%m-%d')} {isolate(clock_reading(local))}",
            "date": _date_in_line(local, right_to_left=language in RIGHT_TO_LEFT),
            "clock": isolate(clock_reading(local)),
            "details": details,
        }

    name = facts.child.given_name
    place = facts.place_names.get(language) or facts.place or t.somewhere
    opening = partial(slots, name, place)
    return InfoBlock(
        language=language,
        headline=fit_marked(t.headline.format(**opening()), SHORT_LIMIT, marker),
        description=fit_marked(
            _with_details(t.description, opening, looks, essentials, room[LONG_LIMIT]),
            LONG_LIMIT,
            marker,
        ),
        short_text=fit_marked(
            _shortened(t.short, slots, name, place, room[SHORT_LIMIT]), SHORT_LIMIT, marker
        ),
        instruction=t.instruction.format(**opening()),
    )


_LIMITS = (SHORT_LIMIT, LONG_LIMIT)
_SHORTEST_LOOKS = 24  # characters: less says nothing, and the looks are left out


def _with_details(
    template: str,
    slots: Callable[..., dict[str, object]],
    looks: list[str],
    essentials: list[str],
    room: int,
) -> str:
    """The description with its details within ``room``: the looks cut (or left out) so
    that the essentials stay whole; ``fit`` cuts what is still too long."""

    def joined(parts: list[str]) -> str:
        return " ".join(part for part in parts if part)

    whole = template.format(**slots(details=joined([*looks, *essentials])))
    if len(" ".join(whole.split())) <= room:
        return whole
    without = template.format(**slots(details=joined(essentials)))
    left = room - len(" ".join(without.split())) - 1
    kept = []
    for part in (p for p in looks if p):
        if len(part) <= left:
            kept.append(part)
            left -= len(part) + 1
            continue
        # Cut, a part keeps enough to say something ("Clothing: Red jacket, blue…"), or
        # goes: a label alone ("Clothing…") says nothing.
        if left >= _SHORTEST_LOOKS:
            kept.append(fit(part, left))
        break
    return template.format(**slots(details=joined([*kept, *essentials])))


def _shortened(
    template: str,
    slots: Callable[..., dict[str, object]],
    name: str,
    place: str,
    room: int,
) -> str:
    """The short text within ``room``, the place and then the name cut to make it so: its
    end says whom to call, and a cut at the end would take the number. A region said after
    the place (to tell namesakes apart: "Ifrane (Béni Mellal-Khénifra)") goes before any
    cut; the long text keeps it."""
    for _ in range(3):
        text = template.format(**slots(name, place))
        over = len(" ".join(text.split())) - room
        if over <= 0:
            break
        if (bare := _SAID_AFTER.sub("", place)) and bare != place:
            place = bare
        elif len(place) - over >= _SHORTEST_PLACE:
            place = fit(place, len(place) - over)
        else:
            place = fit(place, _SHORTEST_PLACE)
            name = fit(name, max(len(name) - over, _SHORTEST_PLACE))
    text = template.format(**slots(name, place))
    # A cut place ends in "…": the template's full stop after it would make "…."
    return text.replace("….", "…").replace(
        f"…{_POP_DIRECTIONAL_ISOLATE}.", f"…{_POP_DIRECTIONAL_ISOLATE}"
    )


_SHORTEST_PLACE = 8  # characters, "…" included: enough to recognise a town
_SAID_AFTER = re.compile(r"\s*\([^()]*\)\s*$")  # "(…)" at a place name's end


# An area without a place name: its reach around the point (the Tifinagh with the numbers
# alone until a reviewed phrase exists).
AROUND: dict[Language, str] = {
    "ar": "{km} كم حول {point}",
    "fr": "{km} km autour de {point}",
    "zgh": "{km} km · {point}",
    "en": "{km} km around {point}",
}


def area_descriptions(
    place: str | None, place_names: Mapping[Language, str], km: float, point: str
) -> dict[Language, str]:
    """What each language calls the area: the place in its own spelling (else as given), or
    the reach around the point."""
    if place is None:
        # "lat,lon" in an Arabic line: isolated (left to right, as it holds no letter), or
        # its two numbers show in the opposite order.
        isolated = f"{_FIRST_STRONG_ISOLATE}{point}{_POP_DIRECTIONAL_ISOLATE}"
        return {
            language: AROUND[language].format(
                km=f"{km:.0f}", point=isolated if language in RIGHT_TO_LEFT else point
            )
            for language in LANGUAGES
        }
    return {language: place_names.get(language) or place for language in LANGUAGES}


def clock_reading(local: datetime) -> str:
    """ "14:05", or "02:30 UTC+1" in the hour a clock going back shows twice (Morocco's, as
    Ramadan starts): without its offset that reading names two moments an hour apart."""
    reading = local.strftime("%H:%M")
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return reading
    offset = local.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    hours, rest = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else "+"
    label = "UTC" if not minutes else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{reading} {label}"


def arabic_years(age: int) -> str:
    """An age in Arabic, the noun agreeing with the number: سنة واحدة, سنتان, 3 to 10
    سنوات (plural), 11 and more سنة (singular, as Arabic counts past ten)."""
    if age < 1:
        return "أقل من سنة"
    if age == 1:
        return "سنة واحدة"
    if age == 2:
        return "سنتان"
    return f"{age} سنوات" if age <= 10 else f"{age} سنة"


RIGHT_TO_LEFT = frozenset({"ar"})
_FIRST_STRONG_ISOLATE, _POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"
_LEFT_TO_RIGHT_ISOLATE = "\u2066"


def in_line(text: str, *, right_to_left: bool) -> str:
    """``text`` (typed by an officer) as it goes into a line of the other direction: isolated
    when it holds letters of the other direction, so that its own numbers and punctuation
    stay with it. Unisolated, "Short black hair, 130 cm" in an Arabic line shows its comma
    and number moved among the Arabic words around it."""
    other = ("L",) if right_to_left else ("R", "AL")
    if any(unicodedata.bidirectional(c) in other for c in text):
        return f"{_FIRST_STRONG_ISOLATE}{text}{_POP_DIRECTIONAL_ISOLATE}"
    return text


def _date_in_line(local: datetime, *, right_to_left: bool) -> str:
    """The day as it goes into a line; in a right-to-left one, isolated left to right. After
    an Arabic word its digits count as Arabic numbers, and the hyphens between them as
    neutral: unisolated, "2026-12-06" showed as "06-12-2026", and broke at its hyphens."""
    day = local.strftime("%Y-%m-%d")
    return f"{_LEFT_TO_RIGHT_ISOLATE}{day}{_POP_DIRECTIONAL_ISOLATE}" if right_to_left else day


def _clause(text: str, *, right_to_left: bool) -> str:
    """Typed text that ends a sentence, ``in_line``: its own full stop left out, for
    ``_sentence`` to put after the isolate (inside it, another would follow)."""
    return in_line(text.rstrip(" ."), right_to_left=right_to_left)


def french_of(words: str) -> str:
    """ "de" before ``words``, elided before a vowel: "d'Agadir", "d'un an", "de Rabat"."""
    # Not before y or h: Moroccan names begin with a consonant y (Youssoufia) or an aspirated
    # h (Had Soualem).
    elides = bool(words) and words[0].lower() in "aeiouàâäéèêëîïôöùûüœ"
    return f"d'{words}" if elides else f"de {words}"


def _sentence(text: str) -> str:
    return text.rstrip(" .") + "."


def cancel_info(*, status: MessageStatus) -> list[InfoBlock]:
    """The end of an alert; a drill's end is marked like its start."""
    return [
        InfoBlock(
            language=lang,
            headline=fit_marked(TEMPLATES[lang].cancel_headline, SHORT_LIMIT, marker),
            description=fit_marked(TEMPLATES[lang].cancel_description, LONG_LIMIT, marker),
            short_text=fit_marked(TEMPLATES[lang].cancel_headline, SHORT_LIMIT, marker),
            instruction=TEMPLATES[lang].cancel_description,
        )
        for lang in LANGUAGES
        for marker in (drill_marker(lang, status),)
    ]
