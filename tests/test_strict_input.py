"""Strict input: no type coercion, no control characters, bounded numbers; malformed bodies
and out-of-range query parameters are a 4xx problem+json naming the field, never a 500."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from intake_api.models import Report
from services.testbed.sample_report import CRITERIA, report_body, report_body_with
from services.testbed.stack import Stack
from shared.outbox import OutboxEvent


def _names(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


def _escaped(body: Any) -> dict[str, Any]:
    """``body`` as JSON with every non-ASCII character escaped, as a client may send it: a
    lone surrogate travels as "\\ud800", which no encoder could write as UTF-8."""
    return {"content": json.dumps(body), "headers": {"content-type": "application/json"}}


def _cursor(key: str) -> str:
    """A list's cursor (a time and a row's key, as JSON in base64url) with this key."""
    raw = json.dumps(["2026-12-07T00:00:00+00:00", key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _stored(stack: Stack) -> tuple[int, int]:
    async with stack.embedded.sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        events = await session.scalar(select(func.count()).select_from(OutboxEvent))
    return int(reports or 0), int(events or 0)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        # Wrong types are refused, not converted.
        ("child.age", "9"),
        ("child.age", True),
        ("child.age", 9.0),
        ("guardian.consent_to_publication", "yes"),
        ("guardian.consent_to_publication", 1),
        ("guardian.consent_to_publication", "true"),
        ("last_seen.location.lon", False),
        ("last_seen.location.lat", "33.57"),
        ("last_seen.heading_deg", True),
        ("last_seen.at", 1_780_000_000),  # Unix time is not an ISO 8601 string
        ("last_seen.at", "1780000000"),
        ("child.birth_date", 0),
        ("child.given_name", 42),
        # Control characters: none in a one-line text, only newline and tab in free text.
        ("child.given_name", "Amina\x00"),
        ("child.family_name", "Ben\nali"),
        ("child.description", "Short hair\x1b[2J"),
        ("circumstances", "Left school\x07"),
        ("guardian.name", "Fatima\u0085Benali"),  # C1 "next line"
        ("submitted_by.unit", "DGSN\tAnfa"),
        ("last_seen.place_name", "Casa\rblanca"),
        ("child.clothing", "\ud800"),  # a lone surrogate (from a JSON escape)
        # Characters that reorder or break what partners display after them.
        ("child.given_name", "Amina\u202e gnirtS"),  # a right-to-left override
        ("child.given_name", "Amina\u2066x"),  # an isolate
        ("child.clothing", "Red jacket\u2028blue jeans"),  # a line separator
        ("child.description", "\ufeffShort hair"),  # a byte-order mark
        ("child.description", "Short hair\rbrown eyes"),  # CR outside CRLF
        # Points where no case can be: abroad, swapped latitude and longitude, a pole.
        ("last_seen.location", {"lat": 48.8566, "lon": 2.3522}),
        ("last_seen.location", {"lat": -7.5898, "lon": 33.5731}),
        ("last_seen.location", {"lat": 90, "lon": -7.5}),
        ("last_seen.location", {"lat": 33.57, "lon": 180}),
        ("last_seen.destination", {"location": {"lat": 36.75, "lon": 3.06}}),  # Algiers
        # Abroad, but within the box around Morocco: far from its territory (an alert there
        # would cover another country or open sea, and reach no one it should).
        ("last_seen.location", {"lat": 35.697, "lon": -0.633}),  # Oran
        ("last_seen.location", {"lat": 22.0, "lon": -2.0}),  # Algeria's south, by Mali
        ("last_seen.location", {"lat": 28.10, "lon": -15.41}),  # Las Palmas
        ("last_seen.location", {"lat": 35.0, "lon": -12.0}),  # the Atlantic, 400 km out
        # Times no case can have: a typed year 1, or before the child was born (aged 9).
        ("last_seen.at", "0001-01-01T00:00:00Z"),
        ("last_seen.at", "2001-01-01T00:00:00Z"),
    ],
)
async def test_a_report_is_taken_at_its_word(refusing_stack: Stack, path: str, value: Any) -> None:
    before = await _stored(refusing_stack)
    # As JSON text with escapes (json.dumps' default): a lone surrogate has no UTF-8 form.
    content = json.dumps(report_body_with(path, value)).encode()
    async with refusing_stack.client("submitter") as police:
        answer = await police.post(
            "/v1/reports", content=content, headers={"content-type": "application/json"}
        )
    field = "last_seen.destination.location" if path == "last_seen.destination" else path
    _names(answer, field)
    assert await _stored(refusing_stack) == before


@pytest.mark.parametrize(
    ("child", "field"),
    [
        ({"birth_date": "2099-01-01", "age": None}, "child.birth_date"),
        ({"birth_date": "2001-01-01", "age": None}, "child.birth_date"),  # not under 18
        ({"birth_date": "2020-01-01", "age": 1}, "child.age"),  # does not match
        ({"birth_date": None, "age": None}, "child"),  # neither: the object is at fault
    ],
)
async def test_a_check_across_fields_names_the_field_at_fault(
    refusing_stack: Stack, child: dict[str, Any], field: str
) -> None:
    body = report_body()
    body["child"] = {k: v for k, v in (body["child"] | child).items() if v is not None}
    async with refusing_stack.client("submitter") as police:
        _names(await police.post("/v1/reports", json=body), field)


async def test_a_report_seen_before_the_child_was_born_is_refused(stack: Stack) -> None:
    body = report_body()  # a child of 9
    ten_years_ago = datetime.now(UTC).replace(year=datetime.now(UTC).year - 10) - timedelta(days=2)
    body["last_seen"]["at"] = ten_years_ago.isoformat()
    async with stack.client("submitter") as police:
        too_early = await police.post("/v1/reports", json=body)
        body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        in_time = await police.post("/v1/reports", json=body)
    _names(too_early, "last_seen.at")  # the field at fault, not the object holding it
    assert "before the child was born" in too_early.json()["detail"]
    assert in_time.status_code == 201, in_time.text


async def test_a_newborn_taken_after_local_midnight_is_reported(stack: Stack) -> None:
    # Born yesterday (a date, where the child was born); taken at 00:30 there, at UTC+1: 23:30
    # UTC the day before. That is not before the birth: only a time before the birth date
    # began anywhere on Earth is.
    born = datetime.now(UTC).date() - timedelta(days=1)
    body = report_body()
    body["child"] = {k: v for k, v in body["child"].items() if k != "age"} | {
        "birth_date": born.isoformat()
    }
    async with stack.client("submitter") as police:
        body["last_seen"]["at"] = f"{born.isoformat()}T00:30:00+01:00"
        after_midnight = await police.post("/v1/reports", json=body)
        body["last_seen"]["at"] = f"{(born - timedelta(days=2)).isoformat()}T12:00:00+01:00"
        before_birth = await police.post("/v1/reports", json=body)
    assert after_midnight.status_code == 201, after_midnight.text
    _names(before_birth, "last_seen.at")


async def test_keys_and_units_are_named_in_plain_lines(stack: Stack) -> None:
    async with stack.client("admin") as admin:
        for name in ("x\x00", "evil\x1b[2J", "line1\nline2", "a\u202eb"):
            _names(
                await admin.post(
                    "/v1/keys", json={"name": name, "scopes": ["alerts:read"], "unit": None}
                ),
                "name",
            )
            _names(await admin.post("/v1/units", json={"code": "U-1", "name": name}), "name")
        assert (await admin.get("/v1/units")).json()["items"] == []
        # A scope is a name like "reports:review": a lone surrogate is none (and no answer
        # repeating it could be written).
        unwritable = {"name": "x", "scopes": ["\ud800"], "unit": None}
        _names(await admin.post("/v1/keys", **_escaped(unwritable)), "scopes.0")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/a.jpg",
        "https://10.1.2.3/a.jpg",
        "https://[::1]/a.jpg",
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        # Addresses Python's own tables call global: the shared rule knows better.
        "https://[2002:7f00:1::]/a.jpg",  # 6to4 around 127.0.0.1
        "https://192.0.0.9/a.jpg",  # IETF protocol assignments
        "https://localhost/a.jpg",
        "https://photos.internal/a.jpg",
        "https://localhost./a.jpg",  # the same names, fully qualified
        "https://metadata.google.internal./computeMetadata",
        # Names only a network's own resolver knows.
        "https://intranet/a.jpg",
        "https://printer.lan/a.jpg",
        "https://nas.home.arpa/a.jpg",
    ],
)
async def test_a_photo_url_must_name_a_public_host(refusing_stack: Stack, url: str) -> None:
    """Partners fetch the photos: an address of their own network would make the alert a
    probe of it."""
    async with refusing_stack.client("submitter") as police:
        answer = await police.post("/v1/reports", json=report_body_with("child.photo_urls", [url]))
    _names(answer, "child.photo_urls.0")
    assert "public host" in answer.json()["detail"]


async def test_a_photo_url_carries_no_credentials(stack: Stack) -> None:
    """Partners publish the photo URLs: a user name and password in one would go with it."""
    url = "https://user:secret@photos.example.org/amina.jpg"
    async with stack.client("submitter") as police:
        answer = await police.post("/v1/reports", json=report_body_with("child.photo_urls", [url]))
    _names(answer, "child.photo_urls.0")
    assert "user name or password" in answer.json()["detail"]


async def test_a_photo_url_names_a_host_any_resolver_finds(stack: Stack) -> None:
    """A name with an empty label is none: the photo could never be fetched."""
    async with stack.client("submitter") as police:
        for url in ("https://photos..ma/a.jpg", "https://.photos.ma/a.jpg"):
            body = report_body_with("child.photo_urls", [url])
            answer = await police.post("/v1/reports", json=body)
            _names(answer, "child.photo_urls.0")
        fully_qualified = report_body_with("child.photo_urls", ["https://photos.ma./a.jpg"])
        assert (await police.post("/v1/reports", json=fully_qualified)).status_code == 201


async def test_a_photo_url_is_bounded_as_it_is_stored(stack: Stack) -> None:
    """2,083 characters as sent, one more once normalised (a "/" added): refused, or the
    stored report would no longer read back."""
    url = "https://" + "0" * 63 + ("." + "a" * 63) * 31 + "." + "a" * 27
    assert len(url) == 2083
    async with stack.client("submitter") as police:
        answer = await police.post("/v1/reports", json=report_body_with("child.photo_urls", [url]))
        _names(answer, "child.photo_urls.0")
        assert (await police.get("/v1/reports")).status_code == 200
    assert await _stored(stack) == (0, 0)


async def test_times_as_iso_strings_and_free_text_lines_are_accepted(stack: Stack) -> None:
    body = report_body()
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    body["last_seen"]["location"] = {"lat": 33, "lon": -7}  # integers are numbers
    body["circumstances"] = "Left school at 16:30.\r\nA witness:\tgrey van."
    body["child"].pop("age")
    body["child"]["birth_date"] = "2017-03-01"
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["report"]["circumstances"] == body["circumstances"]
    assert created.json()["report"]["last_seen"]["location"] == {"lat": 33.0, "lon": -7.0}


async def _submitted(stack: Stack) -> str:
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=report_body())
    assert created.status_code == 201, created.text
    report_id: str = created.json()["id"]
    return report_id


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("approve", {**CRITERIA, "ttl_hours": 1e-300}, "ttl_hours"),
        ("approve", {**CRITERIA, "ttl_hours": 0.5}, "ttl_hours"),
        ("approve", {**CRITERIA, "ttl_hours": 169}, "ttl_hours"),
        ("approve", {**CRITERIA, "ttl_hours": "24"}, "ttl_hours"),
        ("approve", {"criteria": {**CRITERIA["criteria"], "child_under_18": "yes"}}, None),
        ("reject", {"reason": "no\x00risk"}, "reason"),
        ("cancel", {"reason": 7}, "reason"),
        ("resolve", {"note": "found\x1b"}, "note"),
        ("sightings", {"location": {"lat": 34, "lon": False}, "at": "2026-01-01T00:00:00Z"}, None),
        ("sightings", {"location": {"lat": 34, "lon": -6}, "at": "2026-01-01T00:00:00Z"}, None),
        ("sightings", {"location": {"lat": 0, "lon": 0}, "trusted": True}, "location"),
    ],
)
async def test_case_acts_are_strict_too(
    stack: Stack, action: str, body: dict[str, Any], field: str | None
) -> None:
    report_id = await _submitted(stack)
    if action == "sightings" and field is None:
        location = body["location"]
        body = {**body, "trusted": "yes" if location["lon"] is not False else True}
        field = "location.lon" if location["lon"] is False else "trusted"
    if action == "sightings":
        body = {**body, "at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}
    if action == "approve" and field is None:
        field = "criteria.child_under_18"
    async with stack.client("reviewer") as reviewer:
        answer = await reviewer.post(f"/v1/reports/{report_id}/{action}", json=body)
        _names(answer, field or "")
        read = await reviewer.get(f"/v1/reports/{report_id}")
    assert read.json()["status"] == "submitted" and read.json()["sightings"] == []


async def test_renewal_is_at_least_an_hour(stack: Stack) -> None:
    report_id = await _submitted(stack)
    async with stack.client("reviewer") as reviewer:
        approved = await reviewer.post(f"/v1/reports/{report_id}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
        for ttl in (1e-300, 0.99, False, "48"):
            _names(
                await reviewer.post(f"/v1/reports/{report_id}/renew", json={"ttl_hours": ttl}),
                "ttl_hours",
            )
        renewed = await reviewer.post(f"/v1/reports/{report_id}/renew", json={"ttl_hours": 48})
    assert renewed.status_code == 200, renewed.text


def _square(corner: list[Any]) -> dict[str, Any]:
    """A polygon with one given corner (the others valid)."""
    ring = [corner, [-7.0, 33.0], [-7.0, 34.0], [-8.0, 34.0], corner]
    return {"type": "Polygon", "coordinates": [ring]}


def _nested(depth: int) -> dict[str, Any]:
    geometry: dict[str, Any] = {"type": "Point", "coordinates": [-7.5, 33.5]}
    for _ in range(depth):
        geometry = {"type": "GeometryCollection", "geometries": [geometry]}
    return geometry


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Metabook\x00"}, "name"),
        ({"verify_token": "token\nwith-a-line-break"}, "verify_token"),
        ({"url": "https://hooks.example.org/\x00"}, "url"),
        ({"coverage": _square([-7.5, 1000])}, "coverage"),
        ({"coverage": _square([200, 33])}, "coverage"),
        ({"coverage": _square([True, 33])}, "coverage"),
        ({"coverage": _square(["-7", "33"])}, "coverage"),
        # An area: not a point, nor a collection (one nested 200 deep passed the checks, then
        # failed as the answer was written, the partner registered and its secret never shown).
        ({"coverage": {"type": "Point", "coordinates": [-7.5, 33]}}, "coverage"),
        ({"coverage": _nested(200)}, "coverage"),
        (
            {
                "coverage": {
                    "type": "GeometryCollection",
                    "geometries": [{"type": "Point", "coordinates": [-7, 95]}],
                }
            },
            "coverage",
        ),
        ({"languages": "fr"}, "languages"),
        ({"languages": ["ar", "ar"]}, "languages"),
    ],
)
async def test_partner_registration_is_strict(
    refusing_stack: Stack, body: dict[str, Any], field: str
) -> None:
    base = {"name": "Metabook", "url": "https://127.0.0.1/hook", "verify_token": "a-token-123"}
    async with refusing_stack.client("admin") as admin:
        before = (await admin.get("/v1/partners")).json()["items"]
        _names(await admin.post("/v1/partners", json={**base, **body}), field)
        assert (await admin.get("/v1/partners")).json()["items"] == before


async def test_a_partners_coverage_keeps_only_its_area(stack: Stack) -> None:
    """A GeoJSON object's other members are nothing the dispatcher reads: not kept (a lone
    surrogate among them was stored, then failed every answer naming the partner)."""
    area = _square([-7.5, 33.5])
    body = {
        "name": "Metabook",
        "url": "https://127.0.0.1/hook",
        "verify_token": "a-token-123",
        "coverage": {**area, "note": "\ud800", "bbox": [-8, 33, -7, 34]},
    }
    async with stack.client("admin") as admin:
        registered = await admin.post("/v1/partners", **_escaped(body))
        assert registered.status_code == 201, registered.text
        assert registered.json()["coverage"] == area
        shown = await admin.get(f"/v1/partners/{registered.json()['id']}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["coverage"] == area
        # A registration made before, its coverage stored with such a member: read back
        # without it.
        async with stack.embedded.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE partners SET coverage = :coverage"),
                {"coverage": json.dumps(body["coverage"])},
            )
        listed = await admin.get("/v1/partners")
        assert listed.status_code == 200, listed.text
        assert [p["coverage"] for p in listed.json()["items"]] == [area]


async def test_rotation_overlap_is_a_number(stack: Stack) -> None:
    async with stack.client("admin") as admin:
        # Any id: the body is checked first.
        for overlap in (False, "24", -1):
            answer = await admin.post(
                "/v1/partners/p/rotate-secret", json={"overlap_hours": overlap}
            )
            _names(answer, "overlap_hours")


@pytest.mark.parametrize(
    ("key", "url", "field"),
    [
        ("reader", "/v1/reports?offset=9223372036854775808", "query.offset"),
        ("reader", "/v1/reports?offset=9223372036854775807", "query.offset"),
        ("reader", "/v1/reports?offset=-1", "query.offset"),
        ("reader", "/v1/reports?limit=201", "query.limit"),
        ("reader", "/v1/alerts?offset=18446744073709551616", "query.offset"),
        ("reader", "/v1/alerts/a/cap?sequence=9223372036854775808", "query.sequence"),
        ("reader", "/v1/alerts/a/cap?sequence=0", "query.sequence"),
        ("admin", "/v1/partners?offset=9223372036854775808", "query.offset"),
        ("admin", "/v1/deliveries?offset=9223372036854775808", "query.offset"),
        # Whole numbers in digits only: what int() or a float would also take is refused.
        ("reader", "/v1/reports?limit=1_0", "query.limit"),
        ("reader", "/v1/reports?limit=1.0", "query.limit"),
        ("reader", "/v1/reports?limit=%2B5", "query.limit"),
        ("reader", "/v1/reports?limit=%201", "query.limit"),
        ("reader", "/v1/alerts/a/cap?sequence=1.0", "query.sequence"),
        ("reader", "/v1/alerts/a/versions/1_0", "path.sequence"),
        ("admin", "/v1/keys?offset=1_0", "query.offset"),
        # A cursor no list gave: its key a lone surrogate, which no database driver can send.
        ("reader", "/v1/reports?cursor=" + _cursor("\ud800"), "query.cursor"),
        ("reader", "/v1/alerts?cursor=" + _cursor("a\x00"), "query.cursor"),
        ("admin", "/v1/deliveries?cursor=" + _cursor("\udfff"), "query.cursor"),
    ],
)
async def test_paging_is_bounded(refusing_stack: Stack, key: str, url: str, field: str) -> None:
    async with refusing_stack.client(key) as client:
        _names(await client.get(url), field)


async def test_the_deepest_pages_answer_empty(stack: Stack) -> None:
    async with stack.client("reader") as reader:
        page = await reader.get("/v1/reports?offset=1000000")
    assert page.status_code == 200 and page.json()["items"] == []


@pytest.mark.parametrize(
    "content",
    [
        b'{"child": ',  # a syntax error
        b"\xff\xfe\xfa not UTF-8",
        b'{"child": "\xc3\x28"}',  # an invalid UTF-8 sequence inside a string
        '{"child": {}}'.encode("utf-16"),  # JSON, in another encoding than UTF-8
        '{"child": {}}'.encode("utf-32-le"),
        b"[" * 100_000 + b"]" * 100_000,  # nested beyond the parser's recursion limit
    ],
)
async def test_a_malformed_body_names_the_body(refusing_stack: Stack, content: bytes) -> None:
    before = await _stored(refusing_stack)
    async with refusing_stack.client("submitter") as police:
        answer = await police.post(
            "/v1/reports", content=content, headers={"content-type": "application/json"}
        )
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["body"], answer.json()
    assert await _stored(refusing_stack) == before


async def test_a_key_given_twice_is_refused(stack: Stack) -> None:
    """Parsers keep the first or the last of a repeated key: a gateway reading the first
    would see no consent where Tifli, keeping the last, would store consent."""
    body = json.dumps(report_body()).replace(
        '"consent_to_publication": true',
        '"consent_to_publication": false, "consent_to_publication": true',
    )
    assert body.count("consent_to_publication") == 2
    async with stack.client("submitter") as police:
        answer = await police.post(
            "/v1/reports", content=body, headers={"content-type": "application/json"}
        )
    _names(answer, "guardian.consent_to_publication")
    assert await _stored(stack) == (0, 0)


async def test_nan_and_infinity_are_not_numbers(stack: Stack) -> None:
    """Python's JSON parser reads NaN and Infinity, which JSON does not have."""
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        text = httpx.Request("POST", "/", json=report_body()).content
        text = text.replace(b'"lat":33.5731', b'"lat":' + literal)
        assert literal in text
        async with stack.client("submitter") as police:
            answer = await police.post(
                "/v1/reports", content=text, headers={"content-type": "application/json"}
            )
        _names(answer, "last_seen.location.lat")
    assert await _stored(stack) == (0, 0)


@pytest.mark.parametrize(
    ("key", "url", "status", "field"),
    [
        # A NUL in a path names nothing (and PostgreSQL could not even look it up).
        ("reader", "/v1/reports/abc%00def", 404, None),
        ("reader", "/v1/alerts/%1b%5b2J/zone", 404, None),
        ("admin", "/v1/deliveries?alert_id=a%00b", 422, "query.alert_id"),
        ("admin", "/v1/deliveries?partner_id=%C2%85", 422, "query.partner_id"),
        ("reader", "/v1/reports?status=submitted%0a", 422, "query.status"),
    ],
)
async def test_no_control_characters_in_paths_or_queries(
    refusing_stack: Stack, key: str, url: str, status: int, field: str | None
) -> None:
    async with refusing_stack.client(key) as client:
        answer = await client.get(url)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_a_take_down_needs_no_body(stack: Stack) -> None:
    """The child is found: an empty POST resolves (a note is optional), and so does a blank
    note (a client that always sends the field); a body, if sent, is still strict."""
    report_id, blank_id = await _submitted(stack), await _submitted(stack)
    async with stack.client("submitter") as police:
        _names(await police.post(f"/v1/reports/{report_id}/resolve", json={"note": 7}), "note")
        resolved = await police.post(f"/v1/reports/{report_id}/resolve")
        blank = await police.post(f"/v1/reports/{blank_id}/resolve", json={"note": "  "})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert blank.status_code == 200, blank.text
    assert blank.json()["status"] == "resolved" and blank.json()["status_reason"] is None


async def test_a_missing_case_s_id_is_echoed_only_if_it_looks_like_an_id(stack: Stack) -> None:
    """A bidi override or a 5,000-character id is not repeated into the reply (a console or a
    log shows it); an id of ours is, to say which one is missing."""
    async with stack.client("reader") as reader:
        plain = await reader.get("/v1/reports/0b6f1c1e-6a55-4d5c-9d0e-1f2a3b4c5d6e")
        overridden = await reader.get("/v1/reports/%E2%80%AEabc")
        long = await reader.get(f"/v1/reports/{'a' * 5000}")
        alert = await reader.get("/v1/alerts/%E2%80%AEabc")
    assert plain.status_code == 404
    assert plain.json()["detail"] == "No report 0b6f1c1e-6a55-4d5c-9d0e-1f2a3b4c5d6e."
    for answer in (overridden, long):
        assert answer.status_code == 404 and answer.json()["detail"] == "No such report."
    assert alert.status_code == 404 and "\u202e" not in alert.text


async def test_a_query_parameter_an_operation_does_not_take_is_refused(stack: Stack) -> None:
    """A typo in a filter answered the whole list, which reads as the filtered one."""
    async with stack.client("reader") as reader:
        typo = await reader.get("/v1/reports", params={"stauts": "submitted"})
        known = await reader.get("/v1/reports", params={"status": "submitted", "limit": 5})
        alerts = await reader.get("/v1/alerts", params={"sort": "asc"})
        odd = await reader.get("/v1/reports", params={"\u202ex": "1"})
        one = await reader.get("/v1/reports/0b6f1c1e-6a55-4d5c-9d0e-1f2a3b4c5d6e?x=1")
    _names(typo, "query.stauts")
    assert known.status_code == 200, known.text
    _names(alerts, "query.sort")
    _names(odd, "query")
    _names(one, "query.x")


async def test_a_query_parameter_given_twice_is_refused(stack: Stack) -> None:
    """Only the last of its values counted: asked for the cases awaiting review and the
    approved ones, the answer held the approved ones only, as if that were all."""
    waiting = await _submitted(stack)
    async with stack.client("reader") as reader:
        both = await reader.get("/v1/reports?status=submitted&status=approved")
        limits = await reader.get("/v1/reports?limit=1&limit=3")
        one = await reader.get("/v1/reports?status=submitted")
    _names(both, "query.status")
    _names(limits, "query.limit")
    assert waiting in [case["id"] for case in one.json()["items"]]
