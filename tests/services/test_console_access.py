"""The console as keyboard and screen-reader users meet it, in a real browser: what the
tab order reaches and in which order, what each control and value is called and in which
language it is spoken, and a focus that stays where the user left it."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from functools import partial
from itertools import pairwise

from playwright.async_api import Browser, FloatRect, Locator, Page, Request, Route, expect

from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.services.console_steps import add_console_keys, console_page, open_case
from tests.waiting import eventually


async def test_a_refreshed_list_keeps_the_focus_on_the_row_it_was_on(
    stack: Stack, browser: Browser
) -> None:
    """The cases list and the review queue are drawn again when a case comes in: a keyboard
    user on a case's link stays on it (the focus fell back to the start of the page)."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        first = (await police.post("/v1/reports", json=report_body())).json()["id"]
    async with console_page(stack, browser, "officer") as page:
        for rows, nav in (("#cases", "nav.cases"), ("#queue", "nav.review")):
            await page.locator(f"a[data-nav='{nav}']").click()
            # (Its rows load after the page is drawn and its heading focused.)
            link = page.locator(f"{rows} tr[data-case='{first}'] a.child-name")
            await link.focus()
            async with stack.client("police") as police:
                newer = (await police.post("/v1/reports", json=report_body())).json()["id"]
            await page.locator(f"{rows} tr[data-case='{newer}']").wait_for()
            await expect(link).to_be_focused()
        # The case left the queue (approved elsewhere): the focus goes to the row in its place.
        async with stack.client("reviewer") as reviewer:
            approved = await reviewer.post(f"/v1/reports/{first}/approve", json=CRITERIA)
            assert approved.status_code == 200, approved.text
        await link.wait_for(state="detached")
        await expect(page.locator("#queue a.child-name:focus")).to_have_count(1)


async def spoken_in_arabic(value: Locator) -> None:
    await expect(value).to_have_attribute("lang", "ar")
    await expect(value).to_have_attribute("dir", "auto")


async def test_what_users_typed_is_marked_in_its_own_language_where_it_is_not_the_pages(
    stack: Stack, browser: Browser
) -> None:
    """A child's name, a place and a note typed in Arabic carry ``lang="ar"`` (a screen reader
    speaking French read them out letter by letter), and every typed value its own
    direction; one typed in Latin script is left to a French or English page's language, and
    marked French on an Arabic page (an Arabic voice would spell it out)."""
    await add_console_keys(stack)
    body = report_body()
    body["child"].update(given_name="أمينة", family_name="بنعلي")
    body["last_seen"]["place_name"] = "الدار البيضاء"
    sighting = {
        "location": {"lat": 33.6, "lon": -7.5},
        "at": datetime.now(UTC).isoformat(),
        "place_name": "عين السبع",
        "description": "شوهدت قرب المحطة",
    }
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=body)).json()["id"]
        added = await police.post(f"/v1/reports/{case_id}/sightings", json=sighting)
        assert added.status_code == 201, added.text
        # "At the market", in Tifinagh.
        amazigh = {**sighting, "place_name": None, "description": "ⴳ ⵙⵙⵓⵇ"}
        added = await police.post(f"/v1/reports/{case_id}/sightings", json=amazigh)
        assert added.status_code == 201, added.text
    async with console_page(stack, browser, "police") as page:
        for language in ("fr", "en", "ar"):
            await page.locator("#language").select_option(language)
            await page.locator("a[data-nav='nav.cases']").click()
            row = page.locator(f"#cases tr[data-case='{case_id}']")
            await spoken_in_arabic(row.locator("a.child-name"))
            await spoken_in_arabic(row.get_by_text("الدار البيضاء", exact=True))
            await open_case(page, case_id)
            await spoken_in_arabic(page.locator("#child-name"))
            fields = page.locator("dl.fields")
            for typed in ("أمينة", "بنعلي", "الدار البيضاء"):
                await spoken_in_arabic(fields.get_by_text(typed, exact=True))
            latin = fields.get_by_text("Red jacket, blue jeans, white sneakers", exact=True)
            await expect(latin).to_have_attribute("dir", "auto")
            if language == "ar":
                await expect(latin).to_have_attribute("lang", "fr")
            else:
                assert await latin.get_attribute("lang") is None
            sighted = page.locator("#sightings tr.sighting-row").filter(has_text="عين السبع")
            await spoken_in_arabic(sighted.locator("td.place"))
            await spoken_in_arabic(sighted.locator("td.description"))
            amazigh_note = page.locator("#sightings td.description").get_by_text("ⴳ ⵙⵙⵓⵇ")
            await expect(amazigh_note).to_have_attribute("lang", "zgh")


async def test_approve_stays_reachable_and_says_which_criteria_it_waits_for(
    stack: Stack, browser: Browser
) -> None:
    """Approve is a tab stop before the five criteria are ticked (disabled, it was skipped
    without a word); it says, shown and as its description, which criteria are missing, in
    the interface's language, and a press does nothing until they are all ticked."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
    async with console_page(stack, browser, "officer") as page:
        approvals: list[Request] = []
        page.on("request", lambda r: approvals.append(r) if r.url.endswith("/approve") else None)
        await open_case(page, case_id)
        await expect(page.locator("h1")).to_be_focused()  # the page is drawn whole
        approve = page.locator("#approve")
        why = page.locator("#approve-why")
        await page.locator("#ttl").focus()
        await page.keyboard.press("Tab")
        await expect(approve).to_be_focused()
        await expect(approve).to_have_attribute("aria-disabled", "true")
        await expect(why).to_be_visible()
        await expect(approve).to_have_accessible_description(
            "Pour approuver, cochez les critères encore décochés : L'enfant a moins de 18 ans,"
            " Enlèvement, ou enfant en danger, Assez d'éléments pour reconnaître l'enfant,"
            " Le consentement du tuteur est recueilli et La publication n'ajoute aucun risque."
        )
        # Pressed, clicked: nothing is sent, and the focus stays on it.
        await page.keyboard.press("Enter")
        await page.keyboard.press("Space")
        await approve.click(force=True)
        await expect(approve).to_be_focused()

        for criterion in await page.locator("#review input[type=checkbox]").all():
            await criterion.check()
        await page.locator("#criterion-publication_adds_no_risk").uncheck()
        await expect(approve).to_have_accessible_description(
            "Pour approuver, cochez les critères encore décochés :"
            " La publication n'ajoute aucun risque."
        )
        # The page drawn again in another language, the ticks kept: said in that language.
        await page.locator("#language").select_option("en")
        await expect(approve).to_have_accessible_description(
            "To approve, tick the criteria still unticked: Publication adds no risk."
        )
        await page.locator("#language").select_option("ar")
        await expect(approve).to_have_accessible_description(
            re.compile(r"^للاعتماد، .*: النشر لا يضيف خطراً\.$")
        )
        await expect(approve).to_have_attribute("aria-disabled", "true")

        await page.locator("#criterion-publication_adds_no_risk").check()
        await expect(approve).to_have_attribute("aria-disabled", "false")
        await expect(approve).not_to_have_attribute("aria-describedby", re.compile(".*"))
        await expect(why).to_be_hidden()
        await approve.press("Enter")
        await page.locator("#case-status.approved").wait_for()
        # Only the press made once every criterion was ticked went out.
        assert len(approvals) == 1, [r.post_data for r in approvals]


async def test_the_versions_and_geocodes_tables_name_their_columns_and_rows(
    stack: Stack, browser: Browser
) -> None:
    """Column headers (scope col) over the alert's versions and geocodes, and each row named
    by its version or its place: a screen reader moving across a row says what each cell is."""
    await add_console_keys(stack)
    async with stack.clients("police", "reviewer") as (police, reviewer):
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
    async with console_page(stack, browser, "officer") as page:
        await open_case(page, case_id)
        versions = page.locator("#versions")
        await expect(versions.get_by_role("columnheader")).to_have_text(
            ["Version", "Envoyée", "Téléchargements"]
        )
        await expect(versions.get_by_role("rowheader")).to_have_text(["1 — Alerte"])
        geocodes = page.locator("table.geocodes")
        await expect(geocodes.get_by_role("columnheader")).to_have_text(
            ["Code", "Nom (français)", "Nom (arabe)", "Part de la zone"]
        )
        rows = await geocodes.locator("tbody tr").count()
        assert rows > 0
        await expect(geocodes.get_by_role("rowheader")).to_have_count(rows)
        await expect(geocodes.get_by_role("rowheader").first).to_have_attribute("lang", "fr")
        for table in (versions, geocodes):
            await expect(table.locator("thead th:not([scope=col])")).to_have_count(0)
            await expect(table.locator("tbody th:not([scope=row])")).to_have_count(0)
        # On an Arabic page each place is named by its Arabic name.
        await page.locator("#language").select_option("ar")
        await expect(geocodes.get_by_role("rowheader").first).to_have_attribute("lang", "ar")
        await expect(versions.get_by_role("columnheader").first).to_have_text("النسخة")


async def test_the_maps_points_are_said_in_words_beside_it_not_as_nameless_tab_stops(
    stack: Stack, browser: Browser
) -> None:
    """The last-seen point and each sighting were tab stops without names; they are out of
    the tab order and of the accessibility tree, said in words next to the map instead."""
    await add_console_keys(stack)
    sighting = {
        "location": {"lat": 33.6, "lon": -7.5},
        "at": datetime.now(UTC).isoformat(),
        "place_name": "Ain Sebaa",
    }
    async with stack.clients("police", "reviewer") as (police, reviewer):
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
        added = await police.post(f"/v1/reports/{case_id}/sightings", json=sighting)
        assert added.status_code == 201, added.text
    async with console_page(stack, browser, "officer") as page:
        await open_case(page, case_id)
        await expect(page.locator("h1")).to_be_focused()  # the page is drawn whole
        await page.locator("#map").focus()
        await page.keyboard.press("Tab")
        await expect(page.locator(".leaflet-control-zoom-in")).to_be_focused()
        for marker in (page.locator("path.last-seen"), page.locator("path.sighting")):
            await expect(marker).to_have_attribute("aria-hidden", "true")
            await expect(marker).to_have_attribute("tabindex", "-1")
        # What they show, in words: the last seen place among the case's fields, the
        # sighting as a row of the table, each with its time.
        place = page.locator("dl.fields dt:text-is('Lieu (arabe ou français)') + dd").first
        await expect(place).to_have_text("Casablanca, Maarif")
        sighted = page.locator("#sightings tr.sighting-row")
        await expect(sighted.locator("td.place")).to_have_text("Ain Sebaa")
        await expect(sighted.locator("time.ago")).to_have_count(1)
        # A pointer still gets the marker's tooltip.
        await page.locator("path.sighting").hover()
        await expect(page.locator(".leaflet-tooltip", has_text="Ain Sebaa")).to_be_visible()


async def test_a_case_s_actions_come_before_its_alert_in_the_tab_order(
    stack: Stack, browser: Browser
) -> None:
    """From the page's heading the keyboard reaches Resolve before any of the alert's
    controls (it crossed every version's radio and downloads first); the alert is still drawn
    under its map on a desktop, and after the actions in one column on a phone."""
    await add_console_keys(stack)
    async with stack.clients("police", "reviewer") as (police, reviewer):
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
    async with console_page(stack, browser, "officer") as page:
        await page.set_viewport_size({"width": 1280, "height": 900})
        await open_case(page, case_id)
        await expect(page.locator("h1")).to_be_focused()
        resolve = page.locator("[data-action=resolve]")
        alert_controls = page.locator("#alert-details :focus")
        for _ in range(10):
            await page.keyboard.press("Tab")
            await expect(alert_controls).to_have_count(0)
            if await resolve.evaluate("button => button === document.activeElement"):
                break
        await expect(resolve).to_be_focused()

        map_box = await box_of(page, "#map")
        side = await box_of(page, "#side")
        alert = await box_of(page, "#alert-details")
        assert map_box["x"] + map_box["width"] <= side["x"], (map_box, side)
        assert alert["x"] == map_box["x"] and 0 <= alert["y"] - bottom(map_box) < 40

        await page.set_viewport_size({"width": 390, "height": 844})
        stacked = [await box_of(page, part) for part in ("#map", "#side", "#alert-details")]
        for upper, lower in pairwise(stacked):
            assert bottom(upper) <= lower["y"], stacked
        assert all(part["x"] >= 0 and part["x"] + part["width"] <= 390 for part in stacked), stacked
        # Nothing (a long photo URL) widens the page past the phone's width.
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390


async def box_of(page: Page, selector: str) -> FloatRect:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


def bottom(box: FloatRect) -> float:
    return box["y"] + box["height"]


async def test_a_keyboard_user_who_moves_while_a_case_loads_stays_where_they_went(
    stack: Stack, browser: Browser
) -> None:
    """A case page moves the focus to its heading once it has loaded (its history, its
    alert): a user who already tabbed on to an action was pulled back to the top."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
    async with console_page(stack, browser, "officer") as page:
        history = asyncio.Event()

        async def held(route: Route) -> None:
            await history.wait()
            await route.continue_()

        await page.route("**/v1/audit?*", held)
        await page.evaluate(f"location.hash = '#/cases/{case_id}'")
        # Drawn, its history still on the way: the user goes on to Resolve meanwhile.
        resolve = page.locator("[data-action=resolve]")
        await resolve.focus()
        history.set()
        await page.locator("#audit").wait_for()
        await expect(page).to_have_title(re.compile(r"^Dossier — Tifli$"))  # it has arrived
        await expect(resolve).to_be_focused()


# Each list page, the persona that sees it, its table's box, and what shows it has loaded.
PHONE_PAGES = [
    ("officer", "nav.cases", "#cases", "tr[data-case]"),
    ("officer", "nav.review", "#queue", "tr[data-case]"),
    ("officer", "nav.deliveries", "#deliveries .scrolling", "tr[data-event] .attempts li"),
    ("admin", "nav.partners", "#partners", "tr[data-partner]"),
]


async def test_every_list_fits_a_phone_and_its_table_scrolls_in_its_own_box(
    stack: Stack, browser: Browser
) -> None:
    """At 390 px the lists' tables (the deliveries' seven columns with a failing partner's
    attempt log, the cases, the queue, the partners) scroll inside their own box, which the
    keyboard can reach and scroll and which says what it holds; no page is wider than the
    phone (they were 511 to 747 px wide: a table, or the partner's URL field)."""
    await add_console_keys(stack)
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        partner.failing_with = 500
        async with stack.clients("police", "reviewer") as (police, reviewer):
            case_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
            for place in ("Ain Sebaa, quartier industriel", "Hay Mohammadi, près de la gare"):
                sighting = {
                    "location": {"lat": 33.6, "lon": -7.5},
                    "at": datetime.now(UTC).isoformat(),
                    "place_name": place,
                    "description": "Vue près de la gare routière avec un homme en veste bleue",
                    "trusted": True,
                }
                added = await police.post(f"/v1/reports/{case_id}/sightings", json=sighting)
                assert added.status_code == 201, added.text
            await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
            await police.post("/v1/reports", json=report_body())  # one for the queue
        for persona in ("officer", "admin"):
            async with console_page(stack, browser, persona) as page:
                await page.set_viewport_size({"width": 390, "height": 844})
                for _, nav, scroller, loaded in (p for p in PHONE_PAGES if p[0] == persona):
                    await page.locator(f"a[data-nav='{nav}']").click()
                    box = page.locator(scroller)
                    await box.locator(loaded).first.wait_for()
                    assert await page_width(page) <= 390, nav
                    await expect(box).to_have_class(re.compile(r"\bscrolling\b"))
                    await expect(box).to_have_attribute("tabindex", "0")
                    await expect(box).to_have_attribute("role", "region")
                    await expect(box).to_have_accessible_name(re.compile(r"\S"))
                    if await box.evaluate("box => box.scrollWidth > box.clientWidth"):
                        await box.focus()
                        await page.keyboard.press("ArrowRight")
                        # (Perhaps scrolled smoothly: the offset is read until it moves.)
                        await eventually(partial(scroll_offset, box), lambda left: abs(left) > 0)
                    assert await page_width(page) <= 390, nav
                if persona == "officer":  # the deliveries' columns cannot fit 390 px
                    deliveries = page.locator("#deliveries .scrolling")
                    assert await deliveries.evaluate("box => box.scrollWidth > 390")
                    # In Arabic, right to left: the page still fits, and the box scrolls
                    # towards the left (a negative offset).
                    await page.locator("#language").select_option("ar")
                    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
                    await deliveries.locator("tr[data-event] .attempts li").first.wait_for()
                    assert await page_width(page) <= 390
                    await deliveries.focus()
                    await page.keyboard.press("ArrowLeft")
                    await eventually(partial(scroll_offset, deliveries), lambda left: left < 0)
                    assert await page_width(page) <= 390
                    # A case's page, its sightings and deliveries drawn, in both directions
                    # (its sightings' table was 456 px wide).
                    for language in ("ar", "fr"):
                        await page.locator("#language").select_option(language)
                        await open_case(page, case_id)
                        sightings = page.locator("#sightings .scrolling")
                        await sightings.locator("tr.sighting-row").nth(1).wait_for()
                        await page.locator("#deliveries tr[data-event]").first.wait_for()
                        assert await page_width(page) <= 390, language
                        # At the narrowest phone too, its alert's geocodes drawn (their
                        # table made the page 355 px wide at 320).
                        await page.set_viewport_size({"width": 320, "height": 640})
                        geocodes = page.locator("#alert-details .scrolling:has(table.geocodes)")
                        await geocodes.locator("tbody tr").first.wait_for()
                        assert await page_width(page) <= 320, (language, await wider(page, 320))
                        await page.set_viewport_size({"width": 390, "height": 844})


async def wider(page: Page, width: int) -> list[str]:
    """The elements reaching past ``width`` that nothing clips (what made the page wider):
    to say why."""
    found: list[str] = await page.evaluate(
        """width => {
            const clipped = (e) => {
                for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                    if (getComputedStyle(a).overflowX !== "visible") return true;
                }
                return false;
            };
            return [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > width + 1 && !clipped(e))
                .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)
                .slice(0, 10);
        }""",
        width,
    )
    return found


async def page_width(page: Page) -> int:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


async def scroll_offset(box: Locator) -> float:
    left: float = await box.evaluate("box => box.scrollLeft")
    return left


async def outline_of(field: Locator) -> str:
    style: str = await field.evaluate(
        "f => { const s = getComputedStyle(f);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.outlineOffset].join(' '); }"
    )
    return style


async def test_the_focus_shows_on_a_field_at_fault(stack: Stack, browser: Browser) -> None:
    """A keyboard user going through the fields a refusal marked sees which one they are on:
    every field at fault had the same red outline, which replaced the focus ring, so the
    focused one looked like the rest."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        await page.locator("a[data-nav='nav.new']").click()
        await page.locator("#new-case button[type=submit]").focus()
        await page.keyboard.press("Enter")
        given, family = page.locator("#given_name"), page.locator("#family_name")
        await expect(given).to_be_focused()
        for field in (given, family):
            await expect(field).to_have_attribute("aria-invalid", "true")
        focused, left = await outline_of(given), await outline_of(family)
        assert focused != left, focused
        await page.keyboard.press("Tab")
        await expect(family).to_be_focused()
        assert (await outline_of(family), await outline_of(given)) == (focused, left)
