"""Request and response bodies of the intake API. Strict: unknown fields are errors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.alert_contract import MessageStatus, Point, Sex, TravelMode
from shared.auth import UNIT_CODE_PATTERN
from shared.input_types import (
    PARAGRAPH,
    SINGLE_LINE,
    Flag,
    Integer,
    IsoDate,
    IsoDateTime,
    Number,
    inner_field_error,
    read_back,
)
from shared.public_addresses import is_public

# An alert's time window: shorter than an hour would publish to every partner and take the
# alert down before anyone could see it; longer than a week must be a renewal, reviewed again.
MIN_TTL_HOURS = 1
MAX_TTL_HOURS = 168

# Clocks of police systems drift; a few minutes ahead is tolerated, not a time in the future.
CLOCK_SKEW = timedelta(minutes=5)

# Every field is strict (shared/input_types.py): no conversion between types, no control
# characters in texts. Free texts (descriptions, circumstances, notes) may span lines.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SINGLE_LINE
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), SINGLE_LINE
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), PARAGRAPH
]
_PHONE_PATTERN = r"^\+?[0-9 ().-]{3,30}$"
# Digits as an Arabic keyboard types them (Arabic-Indic, and the Eastern forms): taken, and
# kept as the same digits in 0-9, the form every other system reads.
_ARABIC_DIGITS = {
    **{0x0660 + d: str(d) for d in range(10)},
    **{0x06F0 + d: str(d) for d in range(10)},
}
_PHONE_TAKEN = r"^\+?[0-9\u0660-\u0669\u06f0-\u06f9 ().-]{3,30}$"


def _phone_form(value: str) -> str:
    value = value.translate(_ARABIC_DIGITS)
    # Said in words: pydantic's own message quotes the pattern, which an officer cannot read.
    if not re.fullmatch(_PHONE_PATTERN, value):
        raise ValueError(
            "not a phone number: 3 to 30 digits, spaces and ( ) . - after an optional +"
        )
    return value


Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    SINGLE_LINE,
    AfterValidator(_phone_form),
    Field(json_schema_extra={"pattern": _PHONE_TAKEN}),  # for the docs and clients
]


# HttpUrl's own limit, on the text as given.
_URL_MAX = 2083


def _https_only(url: HttpUrl, info: ValidationInfo) -> HttpUrl:
    if url.scheme != "https":
        raise ValueError("photo URLs must use https")
    # The limit again on the normalised form (a "/" added, a name in punycode), which is what
    # is stored and must validate when the report is read back.
    if len(str(url)) > _URL_MAX:
        raise ValueError(f"URL should have at most {_URL_MAX} characters")
    if read_back(info):
        return url
    if "" in (url.host or "").rstrip(".").split("."):
        # "photos..ma": no name any resolver finds, so a photo no partner can fetch.
        raise ValueError("photo URLs must name a host: this one has an empty label")
    if _private_host(url.host or ""):
        # Partners fetch the photos: an address of their own network would turn the alert
        # into a probe of it.
        raise ValueError("photo URLs must name a public host, not a private or local address")
    if url.username is not None or url.password is not None:
        raise ValueError("photo URLs carry no user name or password: partners publish them")
    return url


# Names that are never a public host: reserved (RFC 2606, 6761, 8375) or in common use inside
# networks (routers hand out ".lan" and ".home"; companies ".corp" and ".intranet").
_LOCAL_SUFFIXES = (
    "localhost",
    "local",
    "internal",
    "test",
    "example",
    "invalid",
    "home.arpa",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
    "localdomain",
)


def _private_host(host: str) -> bool:
    """Whether ``host`` is an address that is not public (``shared.public_addresses``), or
    a local name: one label alone ("intranet"), or a local suffix. (A name that resolves to
    a private address is the fetcher's to refuse: no lookup here.)"""
    name = host.strip("[]").lower().rstrip(".")  # "localhost." is localhost: the root's dot
    try:
        return not is_public(name)
    except ValueError:
        pass  # a name, not an address
    return "." not in name or any(
        name == suffix or name.endswith("." + suffix) for suffix in _LOCAL_SUFFIXES
    )


PhotoUrl = Annotated[HttpUrl, AfterValidator(_https_only)]


def _checks_now(info: ValidationInfo) -> bool:
    # Content read back (``STORED``) was checked against "now" when it came in, and must stay
    # readable when time moves on (a child turns 18, a clock drifts).
    return not read_back(info)


# Nothing about a child under 18 happened longer ago than this: an older time is a typo (the
# year 1, 1990), which would also give the widest zone at once.
LIFETIME = timedelta(days=18 * 366)


def _in_a_childs_lifetime(moment: datetime, info: ValidationInfo) -> datetime:
    if _checks_now(info):
        now = datetime.now(UTC)
        if moment > now + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        if moment < now - LIFETIME:
            raise ValueError("must be within the last 18 years")
    return moment.astimezone(UTC)


PastTime = Annotated[IsoDateTime, AfterValidator(_in_a_childs_lifetime)]


class PointIn(Point):
    """A WGS84 point as a client sends it: numbers only (``false`` is not 0)."""

    # Code builds these from a Point (a geocoded place): read it by its attributes.
    model_config = ConfigDict(from_attributes=True)

    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _examples(*examples: dict[str, Any]) -> dict[str, Any]:
    return {"examples": list(examples)}


# The OpenAPI document's examples, valid as shown. Times a request checks against "now" are
# fixed here and moved to just before "now" each time the document is served (see
# services/openapi_document.py), so *Try it out* works as shown on any day.
REPORT_EXAMPLE: dict[str, Any] = {
    "child": {
        "given_name": "Amina",
        "family_name": "Benali",
        "age": 9,
        "sex": "female",
        "description": "Short black hair, brown eyes, about 130 cm, scar above left eyebrow",
        "clothing": "Red jacket, blue jeans, white sneakers",
        "photo_urls": ["https://photos.example.org/amina.jpg"],
    },
    "last_seen": {
        "place_name": "Casablanca",
        "location": {"lat": 33.5731, "lon": -7.5898},
        "at": "2026-11-29T13:35:00Z",
    },
    "circumstances": "Left school at 16:30 and never arrived home; a witness saw a grey van.",
    "suspected_vehicle": {"description": "Grey Renault Kangoo van", "plate": "12345-A-6"},
    "travel_mode": "vehicle",
    "guardian": {
        "name": "Fatima Benali",
        "phone": "+212 600 000 000",
        "relationship": "mother",
        "consent_to_publication": True,
    },
    # No "unit": the case belongs to the submitting key's unit (a national key may name one).
    "submitted_by": {"officer": "Inspector Idrissi"},
    "message_status": "Exercise",
}
SIGHTING_EXAMPLE: dict[str, Any] = {
    "place_name": "Rabat",
    "location": {"lat": 34.0209, "lon": -6.8416},
    "at": "2026-11-29T15:10:00Z",
    "description": "Seen at the bus station with an adult man",
    "trusted": True,
}
CRITERIA_EXAMPLE: dict[str, Any] = {
    "child_under_18": True,
    "involuntary_or_at_risk": True,
    "enough_descriptive_information": True,
    "guardian_consent_recorded": True,
    "publication_adds_no_risk": True,
}


class ChildIn(Strict):
    given_name: Name
    family_name: Name = Field(description="Restricted: never leaves intake, encrypted at rest.")
    age: Integer | None = Field(default=None, ge=0, le=17, description="Years; or give birth_date.")
    birth_date: IsoDate | None = None
    sex: Sex
    description: LongText = Field(description="Physical description: height, build, hair, marks.")
    clothing: ShortText | None = None
    photo_urls: list[PhotoUrl] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _age_known(self, info: ValidationInfo) -> ChildIn:
        if self.age is None and self.birth_date is None:
            raise ValueError("give age or birth_date")
        if self.birth_date is not None and _checks_now(info):
            now = datetime.now(UTC)
            if born_in_the_future(self.birth_date, now):
                raise inner_field_error("birth_date", "must not be in the future")
            today = now.date()
            # Born today where the UTC date is still yesterday: not a year old yet.
            derived = age_on(self.birth_date, max(today, self.birth_date))
            if derived >= 18:
                raise inner_field_error("birth_date", "the child must be under 18")
            if self.age is not None and abs(self.age - derived) > 1:
                raise inner_field_error("age", "does not match birth_date")
        return self

    def age_years(self, today: date) -> int:
        """The child's age on ``today``: from the birth date when one was given, else as stated."""
        if self.birth_date is not None:
            return age_on(self.birth_date, today)
        assert self.age is not None
        return self.age


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year - years, day=28)


# The farthest ahead of UTC a calendar runs (Kiribati, UTC+14).
_LATEST_OFFSET = timedelta(hours=14)


def born_in_the_future(birth: date, now: datetime) -> bool:
    """Whether ``birth`` is after today everywhere on Earth at ``now``. Not after today in UTC:
    a baby born after midnight in Morocco (UTC+1) has a birth date that is tomorrow in UTC
    until 01:00, and taken from a maternity ward then, must be reported at once."""
    return birth > (now + _LATEST_OFFSET).date()


def seen_before_birth(at: datetime, birth: date) -> bool:
    """Whether ``at`` is before ``birth`` began everywhere on Earth. Not before it in UTC: a
    newborn taken from a maternity ward at 00:30 in Morocco (UTC+1) was last seen at 23:30
    UTC the day before its birth date (``born_in_the_future`` allows the same)."""
    return (at + _LATEST_OFFSET).date() < birth


def age_on(birth: date, today: date) -> int:
    """Age in whole years on ``today``: a birthday not yet reached this year does not count."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# A place is a point, a place name, or both. place_name is declared before location so that
# location's validator sees it; when both are given the point wins and the name is kept as is.
PLACE_NAME_DESCRIPTION = (
    "A Moroccan town (Arabic or French spelling). Without location it is geocoded offline at "
    "submission; an unknown or ambiguous name is a 422 listing candidates."
)
LOCATION_DESCRIPTION = "WGS84 point. Give location, place_name or both; location wins."


def _point_or_place(location: PointIn | None, info: ValidationInfo) -> PointIn | None:
    if location is None and info.data.get("place_name") is None:
        raise ValueError("give location (lat, lon) or place_name")
    return location


class DestinationIn(Strict):
    """Where the child is believed to be heading: a point, a place name, or both."""

    place_name: ShortText | None = Field(default=None, description=PLACE_NAME_DESCRIPTION)
    location: PointIn | None = Field(
        default=None, validate_default=True, description=LOCATION_DESCRIPTION
    )

    _located = field_validator("location")(_point_or_place)


# A known direction of travel: operational, not personal. heading_deg is declared before
# destination so that destination's validator sees it.
HEADING_DESCRIPTION = (
    "Direction of travel, degrees clockwise from north (0 ≤ x < 360). The zone stretches "
    "that way. Give heading_deg or destination, not both."
)
DESTINATION_DESCRIPTION = (
    "Where the child is believed to be heading (a point or a Moroccan place name, geocoded "
    "like the place above). The zone stretches towards it. Not with heading_deg."
)
Heading = Annotated[Number, Field(ge=0, lt=360)]


def _not_both(destination: DestinationIn | None, info: ValidationInfo) -> DestinationIn | None:
    if destination is not None and info.data.get("heading_deg") is not None:
        raise ValueError("give heading_deg or destination, not both")
    return destination


class LastSeenIn(Strict):
    place_name: ShortText | None = Field(default=None, description=PLACE_NAME_DESCRIPTION)
    location: PointIn | None = Field(
        default=None, validate_default=True, description=LOCATION_DESCRIPTION
    )
    at: PastTime
    heading_deg: Heading | None = Field(default=None, description=HEADING_DESCRIPTION)
    destination: DestinationIn | None = Field(default=None, description=DESTINATION_DESCRIPTION)

    _located = field_validator("location")(_point_or_place)
    _one_direction = field_validator("destination")(_not_both)


class VehicleIn(Strict):
    description: ShortText
    plate: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), SINGLE_LINE] | None
    ) = None


class GuardianIn(Strict):
    name: Name
    phone: Phone
    relationship: Annotated[str, StringConstraints(max_length=50), SINGLE_LINE] | None = None
    consent_to_publication: Flag = Field(
        description="Whether the guardian agreed to publication. Required. `false` records a "
        "case that waits for consent: approval needs it `true` (a criterion), which a "
        "correction (`PATCH /v1/reports/{id}`) records once given."
    )


UnitCode = Annotated[str, StringConstraints(pattern=UNIT_CODE_PATTERN)]


class SubmitterIn(Strict):
    unit: UnitCode | None = Field(
        default=None,
        description="The unit's code. The case belongs to the submitting key's unit: a unit "
        "key may omit it or must give its own (another is a 422). A national key may name a "
        "known unit to file the case for it; omitted, the case is national (national keys "
        "only see it).",
    )
    officer: Name


class ReportIn(Strict):
    model_config = ConfigDict(json_schema_extra=_examples(REPORT_EXAMPLE))

    child: ChildIn
    last_seen: LastSeenIn
    circumstances: LongText
    suspected_vehicle: VehicleIn | None = None
    companion: ShortText | None = Field(default=None, description="Suspected companion, public.")
    travel_mode: TravelMode = "unknown"
    guardian: GuardianIn
    submitted_by: SubmitterIn
    notes: LongText | None = Field(default=None, description="Case notes. Restricted.")
    message_status: MessageStatus = Field(
        default="Actual", description="Exercise and Test flow end to end, marked as such."
    )

    @field_validator("last_seen")
    @classmethod
    def _seen_after_birth(cls, last_seen: LastSeenIn, info: ValidationInfo) -> LastSeenIn:
        child = info.data.get("child")  # declared before: checked already, if valid
        if child is None or not _checks_now(info):
            return last_seen
        # The earliest birth the child's data allows: its birth date, or (age + 1) years ago.
        born = child.birth_date or _years_before(datetime.now(UTC).date(), (child.age or 0) + 1)
        if seen_before_birth(last_seen.at, born):
            raise inner_field_error("at", "before the child was born (check the year)")
        return last_seen


class Criteria(Strict):
    """The reviewer's confirmations (after US DOJ, EU, Morocco, Brazil practice)."""

    model_config = ConfigDict(json_schema_extra=_examples(CRITERIA_EXAMPLE))

    child_under_18: Flag
    involuntary_or_at_risk: Flag
    enough_descriptive_information: Flag
    guardian_consent_recorded: Flag
    publication_adds_no_risk: Flag


class ApproveIn(Strict):
    model_config = ConfigDict(
        json_schema_extra=_examples({"criteria": CRITERIA_EXAMPLE, "ttl_hours": 24})
    )

    criteria: Criteria
    ttl_hours: Number | None = Field(
        default=None,
        ge=MIN_TTL_HOURS,
        le=MAX_TTL_HOURS,
        description="How long the alert runs, 1 to 168 hours; default: the service's alert "
        "TTL (24 h).",
    )


class RenewIn(Strict):
    model_config = ConfigDict(json_schema_extra=_examples({"ttl_hours": 24}))

    ttl_hours: Number | None = Field(
        default=None,
        ge=MIN_TTL_HOURS,
        le=MAX_TTL_HOURS,
        description="The new window, counted from now, 1 to 168 hours; default: the "
        "service's alert TTL.",
    )


class ReasonIn(Strict):
    model_config = ConfigDict(
        json_schema_extra=_examples({"reason": "The child was with a relative; no risk."})
    )

    reason: LongText


_BLANK = re.compile(r"^[ \t\r\n]*$")


def _blank_allowed(schema: dict[str, Any]) -> None:
    """The schema of a text that may also be blank, which is taken as none (``_BLANK``)."""
    schema["anyOf"].insert(-1, {"type": "string", "pattern": _BLANK.pattern})


class ResolveIn(Strict):
    model_config = ConfigDict(
        json_schema_extra=_examples({"note": "Found safe in Rabat by the local police."})
    )

    note: LongText | None = Field(
        default=None,
        description="A case note (restricted). Blank (spaces, tabs, line breaks or nothing) is "
        "no note: a client that always sends the field must not hold up the take-down.",
        json_schema_extra=_blank_allowed,
    )

    @field_validator("note", mode="before")
    @classmethod
    def _blank_is_none(cls, note: object) -> object:
        # Only here: a resolution is the take-down, and nothing optional may stand in its way.
        return None if isinstance(note, str) and _BLANK.fullmatch(note) else note


class SightingIn(Strict):
    model_config = ConfigDict(json_schema_extra=_examples(SIGHTING_EXAMPLE))

    place_name: ShortText | None = Field(default=None, description=PLACE_NAME_DESCRIPTION)
    location: PointIn | None = Field(
        default=None, validate_default=True, description=LOCATION_DESCRIPTION
    )
    at: PastTime
    description: LongText | None = None
    trusted: Flag = Field(
        default=False,
        description="Confirmed by an officer: the sighting joins the zone (and becomes its "
        "centre if it is the most recent trusted location).",
    )
    heading_deg: Heading | None = Field(default=None, description=HEADING_DESCRIPTION)
    destination: DestinationIn | None = Field(default=None, description=DESTINATION_DESCRIPTION)

    _located = field_validator("location")(_point_or_place)
    _one_direction = field_validator("destination")(_not_both)


ReportStatus = Literal["submitted", "approved", "rejected", "resolved", "cancelled", "expired"]

SIGHTING_OUT_EXAMPLE: dict[str, Any] = {
    "id": "9f3b2c1d-8e7a-4b6c-9d5e-0a1b2c3d4e5f",
    **SIGHTING_EXAMPLE,
    "created_at": "2026-11-29T15:12:00Z",
    "heading_deg": None,
    "destination": None,
    "unit": "CASA-ANFA",
}
REPORT_OUT_EXAMPLE: dict[str, Any] = {
    "id": "5e0c8f1a-2d4b-4c6e-8f7a-9b1c3d5e7f20",
    "status": "approved",
    "alert_id": "0b7c2a9e-4f7d-4a3e-9a51-3f1d2c6b8e10",
    "message_status": "Exercise",
    "created_at": "2026-11-29T14:00:00Z",
    "updated_at": "2026-11-29T14:05:00Z",
    "unit": "CASA-ANFA",
    "version": "6c1f0b9e2d7a4c3f8e51",
    "submitted_by_key": "3f9a1c2b7d4e",
    "content_by_keys": [],
    "reviewed_by_key": "8c2e5a1f9b3d",
    "status_reason": None,
    "expires_at": "2026-11-30T14:05:00Z",
    "criteria": CRITERIA_EXAMPLE,
    "report": {
        **REPORT_EXAMPLE,
        "submitted_by": {**REPORT_EXAMPLE["submitted_by"], "unit": "CASA-ANFA"},
    },
    "sightings": [SIGHTING_OUT_EXAMPLE],
    "erased_at": None,
}


# What a submission answers: the same case before review (no reviewer, criteria, alert).
SUBMITTED_EXAMPLE: dict[str, Any] = {
    **REPORT_OUT_EXAMPLE,
    "status": "submitted",
    "alert_id": None,
    "updated_at": REPORT_OUT_EXAMPLE["created_at"],
    "version": "0d3b9f27a1c84e6b5f90",  # another moment: another version
    "reviewed_by_key": None,
    "expires_at": None,
    "criteria": None,
    "sightings": [],
}


class SightingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra=_examples(SIGHTING_OUT_EXAMPLE),
    )

    id: str
    location: Point
    place_name: str | None
    at: datetime
    description: str | None
    trusted: bool
    created_at: datetime
    heading_deg: float | None = None
    destination: DestinationIn | None = None
    unit: str | None = Field(default=None, description="The reporting key's unit; null: national.")


class ReportOut(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra=_examples(REPORT_OUT_EXAMPLE),
    )

    id: str
    status: ReportStatus
    alert_id: str | None
    message_status: MessageStatus
    created_at: datetime
    updated_at: datetime
    unit: str | None = Field(
        default=None, description="The unit the case belongs to; null: a national case."
    )
    version: str = Field(
        description="The case's version: it changes with every change of the case (a "
        "correction, a sighting, a review). `GET /v1/reports/{id}` also gives it as the "
        "`ETag` header. An approval may name the version it reviewed in `If-Match`: it is "
        "refused (412) if the case changed since."
    )
    submitted_by_key: str
    content_by_keys: list[str] = Field(
        default_factory=list,
        description="The keys that changed what partners show of the case since its "
        "submission (the child, the photos, the suspected vehicle or companion), or, before "
        "approval, where its zone is drawn (the last-seen place, a trusted sighting). Four "
        "eyes: like the submitting key, none of them may approve the case or renew its alert.",
    )
    reviewed_by_key: str | None = Field(
        description="The key that decided the review: approved or rejected the report, or "
        "cancelled it while it waited for review; null until then, and for a report its "
        "submitter withdrew. Later acts (renewal, cancellation, resolution) keep it: the "
        "audit log (`GET /v1/audit`) names each act's key."
    )
    status_reason: str | None = Field(
        description="Why the case was rejected, cancelled or resolved (the note given); null "
        "in an act's answer to a key without `reports:read`."
    )
    expires_at: datetime | None = Field(description="End of the alert's time window.")
    criteria: Criteria | None
    report: ReportIn | None = Field(
        description="The report as submitted; null once the case's personal data is erased, "
        "and in the answer to an act (approve, correct, renew, reject, cancel, resolve, erase) "
        "by a key without `reports:read`: such a key is told the case's state, not its "
        "contents."
    )
    sightings: list[SightingOut] = Field(
        description="The case's sightings; empty in an act's answer to a key without "
        "`reports:read`."
    )
    erased_at: datetime | None = Field(
        default=None,
        description="When the case's personal data was erased (retention, or an operator); "
        "null: not erased.",
    )


class ReportPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=_examples(
            {"items": [REPORT_OUT_EXAMPLE], "next_offset": None, "next_cursor": None}
        )
    )

    items: list[ReportOut]
    next_offset: int | None
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
