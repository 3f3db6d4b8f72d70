"""The console as police and reviewers met it, in a real browser: times on the alert zone's
clock whatever the browser's own zone and time-zone data, a form sent once however often it
is clicked, no sex chosen for the officer, a reviewer's ticks kept when the case changes, a
revoked key sent back to sign in, and failures said in words."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page, Request, Route, expect

from services.testbed.browser import open_page
from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.auth import create_api_key, find_api_key, revoke
from shared.time_zones import time_zone
from tests.services.console_steps import (
    add_console_keys,
    answer_the_next_dialog,
    console_page,
    fill_new_case,
    marked_at_fault,
    open_case,
    sign_in,
)

# A browser far from Morocco: the console must not read times on the browser's clock.
BROWSER_ZONE = "America/New_York"
# Around Morocco's 2026 clock changes (UTC+1 to UTC+0 on 15 February at 03:00 local, back on
# 22 March at 02:00, then to UTC+0 for good on 20 September at 02:00, IANA 2026f): readings
# shown twice, one skipped, and plain ones either side.
WALL_READINGS = [
    "2026-02-15T01:30",
    "2026-02-15T02:30",
    "2026-02-15T03:30",
    "2026-03-22T01:30",
    "2026-03-22T02:30",
    "2026-03-22T03:30",
    "2026-09-20T00:30",
    "2026-09-20T01:30",
    "2026-09-20T02:30",
    "2026-12-05T03:02",
]


def offset_label(moment: datetime, zone: ZoneInfo) -> str:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    minutes = round(offset.total_seconds() / 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def earliest_instant(reading: str, zone: ZoneInfo) -> datetime:
    """The earlier of the two instants a wall reading may name (one: most readings)."""
    wall = datetime.fromisoformat(reading)
    return min(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))


def as_wall(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


async def _a_case_filed(stack: Stack) -> str:
    """The console's keys made, and the sample case filed by the police key: its id."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        case_id: str = (await police.post("/v1/reports", json=report_body())).json()["id"]
    return case_id


async def test_times_are_read_and_typed_on_the_alert_zones_clock(
    stack: Stack, browser: Browser
) -> None:
    zone = time_zone(stack.embedded.settings.alert_timezone)
    await add_console_keys(stack)
    seen = (datetime.now(UTC) - timedelta(minutes=47)).replace(second=0, microsecond=0)
    body = report_body()
    body["last_seen"]["at"] = seen.isoformat()
    async with stack.client("police") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    async with console_page(stack, browser, "police", BROWSER_ZONE) as page:
        await open_case(page, case_id)
        shown = await page.locator(
            "dl.fields dt:text-is('Vu pour la dernière fois le') + dd"
        ).first.text_content()
        local = seen.astimezone(zone)
        assert shown is not None
        assert local.strftime("%d/%m/%Y %H:%M:%S") in shown, shown
        assert offset_label(seen, zone) in shown, shown
        assert seen.astimezone(time_zone(BROWSER_ZONE)).strftime("%H:%M") not in shown, shown

        # Wall readings typed into a time field name the instants the zone's clock shows them
        # at: the earlier of two where the clock went back, and where it skipped an hour.
        named = await page.evaluate(
            "readings => import('./js/zone.js').then(zone =>"
            " readings.map(r => zone.fromWallClock(r).toISOString()))",
            WALL_READINGS,
        )
        expected = [earliest_instant(r, zone) for r in WALL_READINGS]
        assert [datetime.fromisoformat(n) for n in named] == expected

        # A sighting: its time typed on the zone's clock, its point typed (read off a GPS).
        sighted = (datetime.now(UTC) - timedelta(minutes=12)).replace(second=0, microsecond=0)
        # Typed on an Arabic keyboard: its digits and decimal separator are read as a number.
        await page.locator("#sighting-lat").fill("٣٣٫٦١")
        await page.locator("#sighting-lon").fill("-7.52")
        await page.locator("#sighting-at").fill(as_wall(sighted, zone))
        assert "Africa/Casablanca" in (
            await page.locator("#sighting-at-clock").text_content() or ""
        )
        await page.locator("#add-sighting").click()
        await page.locator("#sightings tr.sighting-row").wait_for()
        async with stack.client("police") as police:
            [sighting] = (await police.get(f"/v1/reports/{case_id}")).json()["sightings"]
        assert datetime.fromisoformat(sighting["at"]) == sighted
        assert (sighting["location"]["lat"], sighting["location"]["lon"]) == (33.61, -7.52)

        # A new case: no time offered in advance (it would go out in every text); one typed
        # is read on the zone's clock, whose offset the hint beside it follows.
        await page.locator("a[data-nav='nav.new']").click()
        assert await page.locator("#new-case #seen_at").input_value() == ""
        form = await fill_new_case(page, "Yasmine")
        hint = form.locator("#seen-at-clock")
        await form.locator("#seen_at").fill("2026-03-01T12:00")  # Ramadan 2026: UTC+0
        assert await hint.text_content() == "Africa/Casablanca (UTC)"
        typed = (datetime.now(UTC) - timedelta(minutes=25)).replace(second=0, microsecond=0)
        await form.locator("#seen_at").fill(as_wall(typed, zone))
        assert await hint.text_content() == f"Africa/Casablanca ({offset_label(typed, zone)})"
        await form.locator("#sex").select_option("unknown")
        await form.locator("button[type=submit]").click()
        # (A predicate in Python: the page's CSP refuses the eval of a string to poll.)
        await page.wait_for_url(lambda url: "#/cases/" in url and not url.endswith(case_id))
        new_id = page.url.rsplit("/", 1)[1]
        async with stack.client("police") as police:
            report = (await police.get(f"/v1/reports/{new_id}")).json()["report"]
        assert datetime.fromisoformat(report["last_seen"]["at"]) == typed
        assert report["suspected_vehicle"] == {
            "description": "Grey Renault Kangoo van",
            "plate": "12345-A-6",
        }


async def test_a_case_form_is_sent_once_and_never_with_a_sex_chosen_for_the_officer(
    stack: Stack, browser: Browser
) -> None:
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        posts: list[Request] = []
        page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
        form = await fill_new_case(page, "Nizar")
        # No sex given: the form is not sent (a default went out as "a girl aged 9").
        await form.locator("button[type=submit]").click()
        assert await form.locator("#sex").evaluate("select => select.validity.valueMissing")
        assert not posts
        # A birth date instead of an age, and a direction of travel (the zone stretches).
        await form.locator("#age").fill("")
        await form.locator("#birth_date").fill("2017-03-14")
        await form.locator("#heading").fill("135")
        # Chosen, then double-clicked: one case, whichever click the server saw first.
        await form.locator("#sex").select_option("male")
        await form.locator("button[type=submit]").dblclick()
        await page.wait_for_url("**/#/cases/*")
        await page.locator("#notice.ok").wait_for()  # "submitted", kept past the page change
        async with stack.client("police") as police:
            listed = (await police.get("/v1/reports")).json()["items"]
        assert [r["report"]["child"]["given_name"] for r in listed] == ["Nizar"]
        [case] = listed
        assert case["report"]["child"]["sex"] == "male"
        assert case["report"]["child"]["birth_date"] == "2017-03-14"
        assert case["report"]["last_seen"]["heading_deg"] == 135


async def test_a_case_being_typed_outlives_a_change_of_language_and_a_refused_key(
    stack: Stack, browser: Browser
) -> None:
    """An officer typing a case switches to Arabic, and their key is revoked before they send
    it: the case is still there, sent once they sign in again. Signing out on purpose leaves
    nothing typed for the next person."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        form = await fill_new_case(page, "Yasmine")
        await form.locator("#sex").select_option("female")
        typed = {
            field: await form.locator(f"#{field}").input_value()
            for field in ("given_name", "seen_at", "place_name", "plate", "sex", "guardian_phone")
        }
        await page.locator("#language").select_option("ar")
        await page.locator("#new-case button[type=submit]", has_text="تقديم الملف").wait_for()
        for field, value in typed.items():
            assert await form.locator(f"#{field}").input_value() == value, field
        assert await form.locator("#consent").is_checked()
        # What typing set off ran again: a plate makes the vehicle required.
        assert await form.locator("#vehicle").evaluate("field => field.required")

        async with stack.embedded.sessions() as session, session.begin():
            revoke(await find_api_key(session, "police"), datetime.now(UTC))
            fresh = await create_api_key(
                session, "police-renewed", ["reports:submit", "reports:read"], datetime.now(UTC)
            )
        await form.locator("button[type=submit]").click()
        await page.locator("#sign-in").wait_for()
        await sign_in(page, fresh)
        for field, value in typed.items():
            assert await form.locator(f"#{field}").input_value() == value, field
        await form.locator("button[type=submit]").click()
        await page.wait_for_url(re.compile(r"#/cases/[\w-]+$"))
        async with stack.client("reader") as reader:
            listed = (await reader.get("/v1/reports")).json()["items"]
        assert [r["report"]["child"]["given_name"] for r in listed] == ["Yasmine"]

        await fill_new_case(page, "Salma")
        await page.locator("#sign-out").click()
        await sign_in(page, fresh)
        await page.locator("a[data-nav='nav.new']").click()
        assert await page.locator("#new-case #given_name").input_value() == ""


async def test_keyboard_and_screen_reader_users_are_taken_where_to_go_next(
    stack: Stack, browser: Browser
) -> None:
    """The focus follows the work: a new page's heading (named in the window's title), the
    confirmation a second press asks for, and a refusal, read out where the user is."""
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "police") as page:
        await page.locator("a[data-nav='nav.new']").click()
        await expect(page.locator("#new-case h1")).to_be_focused()
        assert await page.title() == "Nouveau dossier — Tifli"
        await expect(page.locator("a[data-nav='nav.new']")).to_have_attribute(
            "aria-current", "page"
        )
        # A refused case: the field at fault takes the focus, in view in the long form, the
        # reason read as its description; the notice names it as the form does.
        form = await fill_new_case(page, "Rania")
        await form.locator("#sex").select_option("female")
        phone = form.locator("#guardian_phone")
        await phone.fill("1")
        await form.locator("button[type=submit]").press("Enter")
        await expect(phone).to_be_focused()
        await expect(phone).to_be_in_viewport()
        await expect(phone).to_have_accessible_description(re.compile("not a phone number"))
        await expect(page.locator("#notice")).to_have_text("À corriger : Téléphone du tuteur.")
        # Leaving what was typed and not sent asks first; the officer leaves it.
        asked = answer_the_next_dialog(page, leave=True)
        await open_case(page, case_id)
        assert await asyncio.wait_for(asked, timeout=10) == (
            "Ce que vous avez saisi n'a pas été envoyé. Quitter cette page et le perdre ?"
        )
        # A second press asks first: the focus goes to "confirm", and back if the user does.
        await page.locator("[data-action=resolve]").press("Enter")
        confirm = page.locator("[data-confirm=resolve]")
        await expect(confirm).to_be_focused()
        described = await confirm.get_attribute("aria-describedby")
        assert described and await page.locator(f"#{described}").text_content()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # "back"
        await expect(page.locator("[data-action=resolve]")).to_be_focused()


async def test_a_reviewers_ticks_survive_a_change_to_the_case(
    stack: Stack, browser: Browser
) -> None:
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "officer") as page:
        await open_case(page, case_id)
        # The audit timeline names the keys as people know them, beside their ids.
        submitted = page.locator("#audit li").first
        await submitted.wait_for()
        assert await submitted.locator(".key-name").text_content() == "police"
        await page.locator("#criterion-child_under_18").check()
        await page.locator("#criterion-involuntary_or_at_risk").check()
        await page.locator("#reject-reason").fill("en cours de vérification")
        async with stack.client("police") as police:
            sighting = {
                "location": {"lat": 33.60, "lon": -7.55},
                "at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
            }
            added = await police.post(f"/v1/reports/{case_id}/sightings", json=sighting)
            assert added.status_code == 201, added.text
        # Said, not redrawn over the reviewer's work.
        await page.locator("#case-changed").wait_for()
        assert await page.locator("#criterion-child_under_18").is_checked()
        assert await page.locator("#criterion-involuntary_or_at_risk").is_checked()
        assert await page.locator("#reject-reason").input_value() == "en cours de vérification"
        assert await page.locator("#sightings tr.sighting-row").count() == 0
        await page.locator("[data-action=show-changes]").click()
        await page.locator("#sightings tr.sighting-row").wait_for()
        assert not await page.locator("#criterion-child_under_18").is_checked()


async def test_failures_are_said_in_words(stack: Stack, browser: Browser) -> None:
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "police") as page:
        notice = page.locator("#notice")
        # A place the gazetteer only nearly knows: its candidates are offered.
        await open_case(page, case_id)
        await page.locator("#sighting-place").fill("Sidi Ali")
        await page.locator("#add-sighting").click()
        await notice.filter(has_text="Vouliez-vous dire").wait_for()
        # Each with its coordinates: two places of one name are told apart, and can be sent.
        assert re.search(
            r"Sidi Ali Ben Hamdouche \([^)]*\d+\.\d{4}, -\d+\.\d{4}\)",
            await notice.text_content() or "",
        )
        # Named in the page's language: GeoNames' own name of Tanger is the English one.
        await page.locator("#sighting-place").fill("طنجا")
        await page.locator("#add-sighting").click()
        await notice.filter(has_text="Tanger (").wait_for()
        assert "Tangier" not in (await notice.text_content() or "")

        # The server out of reach: said, not an empty list that reads as "no cases".
        def listing(url: str) -> bool:
            return "/v1/reports?" in url

        await page.route(listing, lambda route: route.abort())
        await page.locator("a[data-nav='nav.cases']").click()
        await notice.filter(has_text="Le serveur est injoignable").wait_for()
        assert await page.locator("#cases tr[data-case]").count() == 0
        await page.unroute(listing)
        await page.locator(f"#cases tr[data-case='{case_id}']").wait_for()
        await notice.wait_for(state="hidden")

        # The key revoked while in use: back to signing in, told why.
        async with stack.embedded.sessions() as session, session.begin():
            revoke(await find_api_key(session, "police"), datetime.now(UTC))
        await page.locator("#sign-in").wait_for()
        assert "révoquée ou expirée" in (await notice.text_content() or "")
        assert await page.locator("#who").text_content() == ""


async def test_a_take_down_refused_as_the_server_went_away_stays_said(
    stack: Stack, browser: Browser
) -> None:
    """The server goes away; the case page's poll says so; the officer presses Resolve (the
    child is found), refused in the same words. The poll's next success cleared its own
    failure, and the act's with it: the officer, looking back, saw no sign the take-down
    never went."""
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "police") as page:
        notice = page.locator("#notice")
        await open_case(page, case_id)

        def api(url: str) -> bool:
            return "/v1/" in url

        await page.route(api, lambda route: route.abort())
        await notice.filter(has_text="Le serveur est injoignable").wait_for()  # the poll's
        await page.locator("[data-action=resolve]").click()
        await page.locator("[data-confirm=resolve]").click()
        await expect(page.locator("[data-action=resolve]")).to_be_visible()  # refused
        said = await notice.text_content()
        await page.unroute(api)
        # Two of the page's polls answered: the first one's success has been handled.
        for _ in range(2):
            async with page.expect_response(
                lambda r: r.url.endswith(f"/v1/reports/{case_id}") and r.ok
            ):
                pass
        assert await notice.text_content() == said
        async with stack.client("police") as police:
            assert (await police.get(f"/v1/reports/{case_id}")).json()["status"] == "submitted"


async def test_a_failed_partner_handshake_is_said(stack: Stack, browser: Browser) -> None:
    async with partner_endpoint() as partner, console_page(stack, browser, "admin") as page:
        await page.locator("a[data-nav='nav.partners']").click()
        form = page.locator("#register-partner")
        await form.locator("#partner-name").fill("Wrong token")
        await form.locator("#partner-url").fill(partner.url)
        await form.locator("#partner-token").fill("not-the-partners-token")
        await form.locator("button[type=submit]").click()
        failed = page.locator("#partner-handshake-failed")
        await failed.wait_for()
        assert "la vérification a échoué" in (await failed.text_content() or "")
        assert await page.locator("#partner-secret code").count() == 1
        # Verified again from the page (the partner still refuses this token): said.
        row = page.locator("tr[data-partner]").filter(has_text="Wrong token")
        await row.locator("[data-action=verify]").click()
        await page.locator("#notice").filter(has_text="la vérification a échoué").wait_for()
        assert partner.handshakes == 2


async def test_a_case_sent_again_after_a_lost_answer_is_filed_once(
    stack: Stack, browser: Browser
) -> None:
    """The answer to the first submission is lost on the way back; the officer corrects the
    form and sends it again: the console finds the case the first one filed, and says so."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        lost: list[str] = []

        async def answer_lost(route: Route) -> None:
            if route.request.method != "POST" or lost:
                await route.continue_()
                return
            await route.fetch()  # the server files it; the answer never reaches the page
            lost.append(route.request.url)
            await route.abort()

        form = await fill_new_case(page, "Salma")
        await form.locator("#sex").select_option("female")
        # A plate alone is not sent: it goes with the vehicle it is on.
        await form.locator("#vehicle").fill("")
        await form.locator("button[type=submit]").click()
        assert await form.locator("#vehicle").evaluate("input => input.validity.valueMissing")
        await form.locator("#vehicle").fill("White Dacia Logan")
        await page.route("**/v1/reports", answer_lost)
        await form.locator("button[type=submit]").click()
        await page.locator("#notice").filter(has_text="Le serveur est injoignable").wait_for()
        await form.locator("#age").fill("8")
        await form.locator("button[type=submit]").click()
        await page.wait_for_url("**/#/cases/*")
        await page.locator("#notice").filter(has_text="avait été déposé").wait_for()
        async with stack.client("police") as police:
            [filed] = (await police.get("/v1/reports")).json()["items"]
        assert page.url.endswith(filed["id"]) and lost
        assert filed["report"]["child"]["age"] == 9  # as first sent: the correction came after


async def test_a_case_page_follows_what_others_do(stack: Stack, browser: Browser) -> None:
    """A sighting confirmed by a reviewer elsewhere shows as confirmed (the page looked only
    at the status and the number of sightings)."""
    await add_console_keys(stack)
    async with stack.clients("police", "reviewer") as (police, reviewer):
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
        sighting = {"location": {"lat": 33.6, "lon": -7.5}, "at": datetime.now(UTC).isoformat()}
        added = (await reviewer.post(f"/v1/reports/{case_id}/sightings", json=sighting)).json()
    async with console_page(stack, browser, "police") as page:
        await open_case(page, case_id)
        row = page.locator(f"#sightings tr[data-sighting='{added['id']}']")
        await row.get_by_text("non").wait_for()
        async with stack.client("reviewer") as reviewer:
            trusted = await reviewer.post(f"/v1/reports/{case_id}/sightings/{added['id']}/trust")
            assert trusted.status_code == 200, trusted.text
        await row.get_by_text("oui").wait_for()


async def page_now(page: Page) -> datetime:
    """The time on the page's clock."""
    return datetime.fromisoformat(await page.evaluate("new Date().toISOString()"))


async def test_a_sighting_added_from_a_page_left_open_is_timed_now_unless_a_time_is_typed(
    stack: Stack, browser: Browser
) -> None:
    """A patrol officer keeps a case open; an hour and a half later a sighting is phoned in
    "just now" and they add it as the form offers it. It is timed now: the form offered the
    time the page was drawn at, and the sighting went out 90 minutes early. A time typed is
    kept as typed, however long the page stays open."""
    await add_console_keys(stack)
    body = report_body()
    body["last_seen"]["at"] = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=body)).json()["id"]
    async with console_page(stack, browser, "police") as page:
        # The page's clock, started two hours back and moved on by hand.
        await page.clock.install(time=datetime.now(UTC) - timedelta(hours=2))
        await open_case(page, case_id)
        zone = time_zone(stack.embedded.settings.alert_timezone)
        await page.clock.fast_forward("01:30:00")
        await page.locator("#sighting-place").fill("Rabat")
        before = await page_now(page)
        await page.locator("#add-sighting").click()
        await page.locator("#sightings tr.sighting-row").wait_for()
        after = await page_now(page)
        async with stack.client("police") as police:
            [sighting] = (await police.get(f"/v1/reports/{case_id}")).json()["sightings"]
        sent = as_wall(datetime.fromisoformat(sighting["at"]), zone)
        assert sent in {as_wall(before, zone), as_wall(after, zone)}, (sent, before)

        # Typed, then left: the time typed is the one sent.
        typed = (after - timedelta(minutes=20)).replace(second=0, microsecond=0)
        await page.locator("#sighting-at").fill(as_wall(typed, zone))
        await page.clock.fast_forward("00:10:00")
        await page.locator("#sighting-place").fill("Salé")
        await page.locator("#add-sighting").click()
        await page.locator("#sightings tr.sighting-row", has_text="Salé").wait_for()
        async with stack.client("police") as police:
            sightings = (await police.get(f"/v1/reports/{case_id}")).json()["sightings"]
        [later] = [s for s in sightings if s["place_name"] == "Salé"]
        assert datetime.fromisoformat(later["at"]) == typed


async def test_a_sighting_sent_again_after_a_lost_answer_keeps_its_first_time(
    stack: Stack, browser: Browser
) -> None:
    """The answer to a sighting is lost (it was added); the officer presses again two minutes
    later. The form sends what it sent, under the same Idempotency-Key, so the API finds the
    first: the time offered as now must not have moved on (another body: a 422)."""
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "police") as page:
        await page.clock.install(time=datetime.now(UTC))
        await open_case(page, case_id)
        lost: list[str] = []

        async def lose_the_first_answer(route: Route, request: Request) -> None:
            if request.method == "POST" and not lost:
                lost.append((await route.fetch()).status_text)  # it reached the API
                await route.abort()
            else:
                await route.continue_()

        await page.route(re.compile(r".*/v1/reports/[^/]+/sightings$"), lose_the_first_answer)
        await page.locator("#sighting-place").fill("Rabat")
        await page.locator("#add-sighting").click()
        await expect(page.locator("#add-sighting")).to_be_enabled()
        assert len(lost) == 1
        await page.clock.fast_forward("00:02:00")
        await page.locator("#add-sighting").click()
        await page.locator("#sightings tr.sighting-row").wait_for()
        async with stack.client("police") as police:
            sightings = (await police.get(f"/v1/reports/{case_id}")).json()["sightings"]
        assert len(sightings) == 1


async def test_an_act_on_a_slow_link_says_it_is_being_sent(stack: Stack, browser: Browser) -> None:
    """On a slow link a greyed button looked like one that had stopped working: filing a case
    and taking an alert down say they are being sent until the answer comes, and a refused
    case gives the button back as it was."""
    await add_console_keys(stack)
    async with stack.clients("police", "reviewer") as (police, reviewer):
        approved = (await police.post("/v1/reports", json=report_body())).json()["id"]
        await reviewer.post(f"/v1/reports/{approved}/approve", json=CRITERIA)
    async with console_page(stack, browser, "officer") as page:
        answer = asyncio.Event()
        lost: list[str] = []

        async def slow(route: Route) -> None:
            if route.request.method == "POST":
                await answer.wait()
                if not lost:  # the first one never arrives: the page says so and lets go
                    lost.append(route.request.url)
                    await route.abort()
                    return
            await route.continue_()

        await page.route(re.compile(r"/v1/reports(/[^/]+/resolve)?$"), slow)
        form = await fill_new_case(page, "Rania")
        await form.locator("#sex").select_option("female")
        submit = form.locator("button[type=submit]")
        label = await submit.text_content()
        await submit.click()
        await expect(submit).to_have_text("Envoi…")
        await expect(submit).to_be_disabled()
        await expect(submit).to_have_attribute("aria-busy", "true")
        answer.set()
        await page.locator("#notice").filter(has_text="Le serveur est injoignable").wait_for()
        await expect(submit).to_have_text(label or "")
        await expect(submit).to_be_enabled()
        await expect(submit).not_to_have_attribute("aria-busy", "true")

        answer.clear()
        asked = answer_the_next_dialog(page, leave=True)  # the case typed was never filed
        await open_case(page, approved)
        await asyncio.wait_for(asked, timeout=10)
        await page.locator("[data-action=resolve]").click()
        take_down = page.locator("[data-confirm=resolve]")
        await take_down.click()
        await expect(take_down).to_have_text("Envoi…")
        await expect(take_down).to_be_disabled()
        answer.set()
        await page.locator("#case-status.resolved").wait_for()


async def test_a_partner_form_at_fault_is_said_on_its_fields_in_the_pages_language(
    stack: Stack, browser: Browser
) -> None:
    """The partner's registration, like every other form: a field left empty or too short is
    said on it in the page's language before anything is sent (the browser's bubble spoke the
    browser's: "Please fill out this field." on an Arabic page), and the URL the API refuses
    is marked with its reason and named by its label (it was a notice with the API's path)."""
    async with console_page(stack, browser, "admin") as page:
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        await page.locator("#language").select_option("ar")
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        await page.locator("a[data-nav='nav.partners']").click()
        form = page.locator("#register-partner")
        await form.locator("button[type=submit]").click()
        name = form.locator("#partner-name")
        await expect(name).to_be_focused()
        await expect(name).to_have_accessible_description("إلزامي.")
        await form.locator("#partner-name").fill("Metabook")
        await form.locator("#partner-url").fill("ftp://127.0.0.1/hook")
        await form.locator("#partner-token").fill("short")
        await form.locator("button[type=submit]").click()
        token = form.locator("#partner-token")
        await expect(token).to_be_focused()
        await expect(token).to_have_accessible_description("الحد الأدنى من الأحرف: 8")
        assert posts == []

        await token.fill("a-long-enough-token")
        await form.locator("button[type=submit]").click()
        url = form.locator("#partner-url")
        await marked_at_fault(url, re.compile("must use http or https"))
        await expect(page.locator("#notice")).to_have_text("للتصحيح: URL.")


async def test_signing_in_with_no_key_is_said_in_the_pages_language(
    stack: Stack, browser: Browser
) -> None:
    """Sign in pressed with the key's field empty: said on the field in the page's language,
    as every other form does, and nothing asked of the API (the browser's bubble said
    "Please fill out this field." on an Arabic page)."""
    page, watch = await open_page(browser, f"{stack.base_url}/console/")
    try:
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/v1/" in r.url else None)
        await page.locator("#language").select_option("ar")
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        await page.locator("#sign-in button[type=submit]").click()
        key = page.locator("#api-key")
        await marked_at_fault(key, "إلزامي.")
        await expect(page.locator("#notice")).to_contain_text("للتصحيح:")
        # Spaces alone are no key either: said the same way, not signed in with nothing.
        await page.locator("#notice").evaluate("notice => notice.replaceChildren()")
        await key.fill("   ")
        await page.locator("#sign-in button[type=submit]").click()
        await expect(page.locator("#notice")).to_contain_text("للتصحيح:")
        await expect(key).to_have_accessible_description("إلزامي.")
        assert asked == []
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside


async def test_a_correction_being_typed_is_shown_again_after_a_change_of_language(
    stack: Stack, browser: Browser
) -> None:
    """A correction typed, then the language changed: the correction is given back, and
    shown, its panel open as it was typed in (it was put back folded away: the typing
    looked lost, though leaving the page still asked about it)."""
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "officer") as page:
        await open_case(page, case_id)
        await page.locator("#correction summary").click()
        await page.locator("#fix-clothing").fill("Green jacket")
        await page.locator("#language").select_option("en")
        await page.locator("#correction summary", has_text="Correct the case").wait_for()
        clothing = page.locator("#fix-clothing")
        await expect(clothing).to_be_visible()
        await expect(clothing).to_have_value("Green jacket")


async def test_a_case_that_cannot_be_shown_does_not_leave_the_last_one_under_its_address(
    stack: Stack, browser: Browser
) -> None:
    """From one case's page to a case the key cannot read (another unit's, erased, a wrong
    reference): said, and the page before is not left on screen under the new address, its
    buttons acting on the case it shows (it stayed, the address naming the other one)."""
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "police") as page:
        await open_case(page, case_id)
        await page.evaluate("location.hash = '#/cases/00000000-0000-0000-0000-000000000000'")
        await expect(page.locator("#notice")).to_contain_text("Introuvable")
        await expect(page.locator("[data-case-page]")).to_have_count(0)
        await expect(page.locator("[data-action=resolve]")).to_have_count(0)


async def test_a_case_that_cannot_be_shown_does_not_leave_the_last_ones_title(
    stack: Stack, browser: Browser
) -> None:
    """The window's title says the refusal the page shows, not "Dossier" of the case before
    (it stayed, in the tab and in the browser's history, over a page showing no case)."""
    case_id = await _a_case_filed(stack)
    async with console_page(stack, browser, "police") as page:
        await open_case(page, case_id)
        await expect(page).to_have_title("Dossier — Tifli")
        await page.evaluate("location.hash = '#/cases/00000000-0000-0000-0000-000000000000'")
        await expect(page.locator("#notice")).to_contain_text("Introuvable")
        await expect(page).to_have_title("Introuvable (ou pas de l'unité de cette clé). — Tifli")
