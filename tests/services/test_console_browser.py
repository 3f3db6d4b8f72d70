"""The console at /console/ in a real browser (tests/browser.py), as police, a reviewer and
an operator use it: a case submitted, approved from the queue, its alert on the map and its
delivery watched until the partner has it, a sighting placed on the map, the case resolved
and the Cancel watched in turn — with nothing loaded from outside loopback."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, Request, Route, expect

from services.testbed.browser import addresses_on, is_loopback, open_page
from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from shared.auth import create_api_key
from tests.flows import an_alert_on_its_way, an_approved_case
from tests.services.console_steps import (
    MARKUP_NAME,
    add_console_keys,
    confirm,
    console_page,
    fill_new_case,
    open_case,
    sign_in,
    submit_case,
)
from tests.waiting import eventually


def delivery(page: Page, event: str, status: str) -> str:
    return f"#deliveries tr[data-event='{event}'] .status.{status}"


def path_points(d: str) -> int:
    """The points of an SVG path as Leaflet writes a polygon: one M or L per vertex."""
    return len(re.findall(r"[ML]", d))


async def screenshots(page: Page, case_id: str, folder: Path, language: str) -> None:
    await page.locator("#language").select_option(language)
    await page.locator("a[data-nav='nav.cases']").click()
    row = page.locator(f"#cases tr[data-case='{case_id}']")
    await row.wait_for()
    await page.screenshot(path=str(folder / f"console-cases-{language}.png"), full_page=True)
    await row.locator("a.child-name").click()
    await page.locator("path.zone-sent").wait_for()
    await page.locator("#map").screenshot(path=str(folder / f"console-map-{language}.png"))
    await page.locator(delivery(page, "alert.cancelled", "delivered")).wait_for()
    await page.locator("#deliveries").screenshot(
        path=str(folder / f"console-deliveries-{language}.png")
    )


async def test_a_case_from_submission_to_cancel_in_the_console(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    await add_console_keys(stack)
    requests: list[str] = []
    async with partner_endpoint() as partner:
        await stack.register_partner(partner)
        page, watch = await open_page(browser, f"{stack.base_url}/console/")
        page.on("request", lambda request: requests.append(request.url))
        navigations: list[Request] = []
        page.on(
            "request",
            lambda r: navigations.append(r) if r.is_navigation_request() else None,
        )
        try:
            await sign_in(page, stack.keys["police"])
            # Police keys see no review queue, deliveries nor partners.
            assert await page.locator("a[data-nav='nav.review']").count() == 0
            assert await page.locator("a[data-nav='nav.deliveries']").count() == 0
            case_id = await submit_case(page)
            assert await page.locator("#child-name").text_content() == f"{MARKUP_NAME} Benali"
            assert await page.locator("#view img, #view script").count() == 0

            await sign_in(page, stack.keys["officer"])
            await page.locator("a[data-nav='nav.review']").click()
            queued = page.locator(f"#queue tr[data-case='{case_id}'] a.child-name")
            assert await queued.text_content() == f"{MARKUP_NAME} Benali"
            await queued.click()
            review = page.locator("#review")
            await review.wait_for()
            for criterion in await review.locator("input[type=checkbox]").all():
                await criterion.check()
            await review.locator("#ttl").fill("12")
            navigations.clear()
            clicked = time.perf_counter()
            await review.locator("#approve").click()
            await page.locator(delivery(page, "alert.issued", "delivered")).wait_for()
            shown_after_s = time.perf_counter() - clicked
            assert not navigations, "the delivery showed only after a page load"
            print(f"approve click → delivered shown: {shown_after_s * 1000:.0f} ms")

            # The map draws the polygon sent, vertex for vertex.
            async with stack.client("officer") as api:
                report = (await api.get(f"/v1/reports/{case_id}")).json()
                alert = (await api.get(f"/v1/alerts/{report['alert_id']}")).json()
            vertex_count = alert["current"]["area"]["vertex_count"]
            drawn = await page.locator("path.zone-sent").get_attribute("d")
            assert drawn is not None and path_points(drawn) == vertex_count
            assert await page.locator("#vertex-count").text_content() == str(vertex_count)
            # Counting down to the expiry (12 h asked) and to the zone's next re-computation,
            # in words of the interface's language ("11 h et 59 min").
            assert (await page.locator("#countdown").get_attribute("datetime") or "").startswith(
                "PT11H"
            )
            assert re.fullmatch(
                r"11\sh et \d+\smin", await page.locator("#countdown").text_content() or ""
            )
            assert alert["next_widen_at"] is not None
            assert await page.locator("#widen-countdown").text_content() != ""
            assert await page.locator(".texts .text[lang=zgh]").count() == 1
            # Morocco's regions and provinces and foreign land, from GET /v1/map/base.
            await page.locator("#map[data-base-map=drawn]").wait_for()
            await page.locator("path.zone-exact").wait_for()

            # A sighting placed by clicking the map, off the last-seen point.
            frame = await page.locator("#map").bounding_box()
            assert frame is not None
            await page.locator("#map").click(
                position={"x": frame["width"] / 2 + 60, "y": frame["height"] / 2 - 50}
            )
            picked = [
                float(await page.locator(f"#sighting-{axis}").input_value())
                for axis in ("lat", "lon")
            ]
            await page.locator("#add-sighting").click()
            await page.locator("#sightings tr.sighting-row").wait_for()
            await page.locator("path.sighting").wait_for()
            async with stack.client("officer") as api:
                [sighting] = (await api.get(f"/v1/reports/{case_id}")).json()["sightings"]
            assert [sighting["location"]["lat"], sighting["location"]["lon"]] == picked
            # North-east of the last-seen point, where it was clicked.
            assert picked[0] > 33.5731 and picked[1] > -7.5898

            # Resolve, with confirmation; the Cancel reaches the partner, shown as it does.
            await page.locator("[data-action=resolve]").click()
            await page.locator("[data-confirm=resolve]").click()
            await page.locator("#case-status.resolved").wait_for()
            await page.locator(delivery(page, "alert.cancelled", "delivered")).wait_for()
            # Its map no longer reads as a live alert: the zone faded, and said so in words.
            await expect(page.locator("#map .taken-down")).to_have_text(
                "Retirée : les partenaires ne montrent plus cette zone."
            )
            await expect(page.locator("#map")).to_have_attribute("data-taken-down", "true")

            # Four eyes: a reviewer who submitted a case is told why they cannot approve it.
            async with stack.client("officer") as api:
                own = (await api.post("/v1/reports", json=report_body())).json()["id"]
            await page.evaluate(f"location.hash = '#/cases/{own}'")
            await page.locator("#four-eyes").wait_for()
            for criterion in await page.locator("#review input[type=checkbox]").all():
                await criterion.check()
            # Still a tab stop, whose description says why it does nothing.
            approve = page.locator("#approve")
            await expect(approve).to_have_attribute("aria-disabled", "true")
            await expect(approve).to_have_accessible_description(
                re.compile("^Vous avez soumis ce dossier")
            )

            for language in ("fr", "ar"):
                await screenshots(page, case_id, tmp_path, language)
            # The interface in Arabic, right to left; the Tifinagh text in the vendored font.
            assert await page.locator("html").get_attribute("dir") == "rtl"
            tifinagh = await page.evaluate(
                "document.fonts.load('16px \"Noto Sans Tifinagh\"', 'ⵜⵉⴼⵍⵉ')"
                ".then(faces => faces.length)"
            )
            assert tifinagh == 1
            # No script ran (it would have set the title), and the child's name stays out of
            # the title, which the browser's history keeps.
            assert await page.title() == "الملف — Tifli"
            # Nothing on the drawn page points outside the machine either: no src to load
            # and no link to follow.
            addresses = await addresses_on(page)
            assert addresses and all(is_loopback(a) for a in addresses), [
                a for a in addresses if not is_loopback(a)
            ]
        finally:
            await page.screenshot(path=str(tmp_path / "console-last.png"), full_page=True)
            await page.context.close()
    assert requests and all(is_loopback(url) for url in requests), [
        url for url in requests if not is_loopback(url)
    ]
    assert not watch.outside, watch.outside
    assert not [e for e in watch.console_errors if "Content Security Policy" in e], (
        watch.console_errors
    )


async def test_a_reviewer_rejects_renews_cancels_and_sightings_by_place_name(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    await add_console_keys(stack)
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["patrol"] = await create_api_key(
            session, "patrol", ["sightings:submit"], datetime.now(UTC)
        )
        stack.keys["keys-admin"] = await create_api_key(
            session, "keys-admin", ["keys:admin"], datetime.now(UTC)
        )
    async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
        rejected_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved_id = (await police.post("/v1/reports", json=report_body())).json()["id"]
        await reviewer.post(f"/v1/reports/{approved_id}/approve", json=CRITERIA)
    page, watch = await open_page(browser, f"{stack.base_url}/console/")
    try:
        await sign_in(page, stack.keys["officer"])
        # Reject, with the reason asked for and kept as typed.
        await open_case(page, rejected_id)
        await page.locator("#reject-reason").fill("Child located before review <b>ok</b>")
        await confirm(page, "reject")
        await page.locator("#case-status.rejected").wait_for()
        # Each act says it was done, and what follows from it.
        await page.locator(
            "#notice.ok", has_text="Rejeté : le dossier ne sera pas publié"
        ).wait_for()
        assert await page.get_by_text("Child located before review <b>ok</b>").count() == 1

        # Renew for 30 h from now (past the 24 h it was approved for): the countdown follows.
        await open_case(page, approved_id)
        await page.locator("#countdown[datetime]").wait_for()
        # The map says what each of its marks is: the polygon sent, the exact zone, the reach
        # and the last seen place (no heading, no sighting yet).
        await expect(page.locator("#map-legend li")).to_have_count(4)
        await page.locator("#renew-ttl").fill("30")
        await confirm(page, "renew")
        await page.locator("#countdown[datetime^=P1DT5H]").wait_for()
        await page.locator("#notice.ok", has_text="la nouvelle fin de l'alerte").wait_for()
        # The first version's polygon stays downloadable once the renewal's Update is current.
        async with page.expect_download() as saved:
            await page.locator("#versions tr[data-sequence='1'] [data-download=geojson]").click()
        first = json.loads(Path(await (await saved.value).path()).read_text())
        assert first["properties"]["sequence"] == 1
        assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")

        # Sightings typed as place names, in Arabic and in French spelling, placed by the API's
        # gazetteer (Marrakech and Fès are far from the Casablanca last-seen point).
        for typed in ("مراكش", "Fès"):
            await page.locator("#sighting-place").fill(typed)
            await page.locator("#add-sighting").click()
            await page.locator("#sightings td.place", has_text=typed).wait_for()
        async with stack.client("officer") as api:
            sightings = (await api.get(f"/v1/reports/{approved_id}")).json()["sightings"]
        located = {s["place_name"]: s["location"] for s in sightings}
        assert abs(located["مراكش"]["lat"] - 31.63) < 0.3, located
        assert abs(located["Fès"]["lat"] - 34.03) < 0.3, located

        # Durations in Arabic words, right to left: the countdown and "since last seen".
        await page.locator("#language").select_option("ar")
        await page.locator("#countdown").filter(has_text=re.compile(r"^يوم و5 س$")).wait_for()
        await page.locator("a[data-nav='nav.cases']").click()
        since_seen = page.locator(f"#cases tr[data-case='{approved_id}'] time.ago")
        assert (await since_seen.text_content() or "").startswith("قبل")
        await page.screenshot(path=str(tmp_path / "console-cases-durations-ar.png"), full_page=True)
        await page.locator("#language").select_option("fr")

        # A patrol key that may only add sightings is offered only that, by case reference,
        # sent untrusted; the officer then confirms it.
        await sign_in(page, stack.keys["patrol"])
        offered = await page.locator("#nav a").evaluate_all(
            "links => links.map(a => a.dataset.nav)"
        )
        assert offered == ["nav.sighting"]
        reference = page.locator("#case-ref")
        await page.locator("#sighting-place").fill("Rabat")
        assert await page.locator("#sighting-trusted").count() == 0
        # A mistyped reference: said of the reference, never "not this key's unit's" (this
        # key reaches every unit's cases).
        await reference.fill(approved_id[:-1] + ("0" if approved_id[-1] != "0" else "1"))
        await page.locator("#add-sighting").click()
        await expect(reference).to_be_focused()
        await expect(reference).to_have_attribute("aria-invalid", "true")
        await expect(reference).to_have_accessible_description(
            re.compile("Aucun dossier n'a cette référence")
        )
        await expect(page.locator("#notice")).to_have_text("À corriger : Référence du dossier.")
        await reference.fill(approved_id)
        await expect(reference).not_to_have_attribute("aria-invalid", "true")
        await page.locator("#add-sighting").click()
        await page.locator("#notice.ok").wait_for()
        # A key no page serves is told so, with its scopes, rather than shown a blank page.
        await sign_in(page, stack.keys["keys-admin"])
        assert await page.locator("#nothing-here code").text_content() == "keys:admin"
        assert await page.locator("#nav a").count() == 0
        await sign_in(page, stack.keys["officer"])
        await open_case(page, approved_id)
        patrol_row = page.locator("#sightings tr.sighting-row", has_text="Rabat")
        await patrol_row.locator("[data-action=trust]").click()
        await patrol_row.locator("[data-confirm=trust]").click()
        await patrol_row.get_by_text("oui").wait_for()
        # Once the page is drawn again, the focus lands on what the act did (said).
        await expect(page.locator("#notice.ok")).to_be_focused()

        # Cancel with confirmation: asked once more, then done, with the reason given.
        await page.locator("#cancel-reason").fill("Duplicate of another case")
        await page.locator("[data-action=cancel]").click()
        assert await page.locator("[data-confirm=cancel]").is_visible()
        await page.locator("[data-confirm=cancel]").click()
        await page.locator("#case-status.cancelled").wait_for()
        await page.locator("#notice.ok", has_text="Annulé : les partenaires reçoivent").wait_for()
        async with stack.client("officer") as api:
            cancelled = (await api.get(f"/v1/reports/{approved_id}")).json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["status_reason"] == "Duplicate of another case"
    finally:
        await page.screenshot(path=str(tmp_path / "console-reviewer-last.png"), full_page=True)
        await page.context.close()
    assert not watch.outside, watch.outside


async def test_a_key_typed_just_after_signing_out_is_the_one_signed_in(
    stack: Stack, browser: Browser
) -> None:
    # Signing out draws the sign-in form at once; nothing may draw it again under a key being
    # typed into it. (Assigning the URL's hash did, from the hashchange it fires, and the key
    # typed meanwhile was lost with the form it was typed in.)
    await add_console_keys(stack)
    page, watch = await open_page(browser, f"{stack.base_url}/console/")
    try:
        await sign_in(page, stack.keys["police"])
        await page.wait_for_url("**/#/cases")
        await page.evaluate(
            """async (key) => {
                document.getElementById("sign-out").click();
                document.getElementById("api-key").value = key;
                // Whatever signing out queued runs now, before the form is sent.
                await new Promise((done) => setTimeout(done, 200));
                document.querySelector("#sign-in button[type=submit]").click();
            }""",
            stack.keys["officer"],
        )
        await page.locator("#sign-out").wait_for()
        assert (await page.locator("#who").text_content() or "").startswith("officer")
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside


async def test_partners_and_a_dead_delivery_replayed_in_the_console(
    short_cancel_stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    stack = short_cancel_stack
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["operator"] = await create_api_key(
            session,
            "operator",
            ["partners:admin", "deliveries:read", "deliveries:ops"],
            datetime.now(UTC),
        )
    async with partner_endpoint() as partner:
        page, watch = await open_page(browser, f"{stack.base_url}/console/")
        try:
            await sign_in(page, stack.keys["operator"])
            assert await page.locator("a[data-nav='nav.cases']").count() == 0
            await page.locator("a[data-nav='nav.partners']").click()
            form = page.locator("#register-partner")
            await form.locator("#partner-name").fill("Metabook <b>loopback</b>")
            await form.locator("#partner-url").fill(partner.url)
            await form.locator("#partner-token").fill(partner.verify_token)
            await form.locator("button[type=submit]").click()
            row = page.locator("tr[data-partner]").filter(has_text="Metabook <b>loopback</b>")
            await row.locator(".status.active").wait_for()
            assert partner.handshakes == 1
            secret = await page.locator("#partner-secret code").text_content()
            assert secret is not None and secret.startswith("whsec_")

            await row.locator("[data-action=test]").click()
            await page.locator("#notice.ok").wait_for()
            await partner.wait_for(1)

            await row.locator("[data-action=rotate]").click()
            await row.locator("[data-confirm=rotate]").click()
            rotated = page.locator("#partner-secret code")
            # (Waited by Playwright's own matcher: polling a script string is an eval, which
            # the page's CSP refuses.)
            await expect(rotated).not_to_have_text(secret)
            assert (await rotated.text_content() or "").startswith("whsec_")

            # A delivery that died while the partner failed, replayed once it answers again.
            partner.failing_with = 500
            async with stack.client("submitter") as police, stack.client("reviewer") as reviewer:
                created = await police.post("/v1/reports", json=report_body())
                report = f"/v1/reports/{created.json()['id']}"
                await reviewer.post(f"{report}/approve", json=CRITERIA)
                await an_alert_on_its_way(stack)
                await police.post(f"{report}/resolve", json={})
            await page.locator("a[data-nav='nav.deliveries']").click()
            dead = page.locator("#deliveries tr[data-event='alert.cancelled']")
            await dead.locator(".status.dead").wait_for()
            # Every alert's deliveries in one list: each says which alert it is for.
            alert_ref = await dead.locator(".alert-ref").get_attribute("title")
            async with stack.client("reviewer") as reviewer:
                approved = (await reviewer.get(report)).json()
            assert alert_ref == approved["alert_id"]
            assert int(await dead.locator("td").nth(3).text_content() or 0) > 1
            partner.failing_with = None
            await dead.locator("[data-action=replay]").click()
            await dead.locator(".status.delivered").wait_for()
            await page.screenshot(path=str(tmp_path / "console-replayed.png"), full_page=True)

            await page.locator("a[data-nav='nav.partners']").click()
            await row.locator("[data-action=disable]").click()
            await row.locator("[data-confirm=disable]").click()
            await row.locator(".status.disabled").wait_for()
        finally:
            await page.screenshot(path=str(tmp_path / "console-partners.png"), full_page=True)
            await page.context.close()
    assert not watch.outside, watch.outside


async def test_a_partner_paused_by_its_retry_after_says_until_when(
    stack: Stack, browser: Browser
) -> None:
    """A partner that answered 429 with a Retry-After gets nothing until then, whatever is
    owed to it: its page in the API and its row in the console say so, and until when."""
    async with partner_endpoint(script=[429]) as partner:
        partner.retry_after = "600"
        registered = await stack.register_partner(partner)
        async with stack.clients("submitter", "reviewer") as (police, reviewer):
            await an_approved_case(police, reviewer)
        async with stack.client("admin") as admin:
            shown = await eventually(
                lambda: admin.get(f"/v1/partners/{registered['id']}"),
                lambda answer: answer.json()["paused_until"] is not None,
            )
        assert shown.json()["paused_by"] == 429
        until = datetime.fromisoformat(shown.json()["paused_until"])
        assert timedelta(minutes=9) < until - datetime.now(UTC) <= timedelta(minutes=10)
        async with console_page(stack, browser, "admin") as page:
            await page.locator("a[data-nav='nav.partners']").click()
            row = page.locator(f"tr[data-partner='{registered['id']}']")
            await expect(row.locator("[data-paused='429']")).to_contain_text("HTTP 429")


async def test_a_child_given_by_birth_date_shows_an_age(stack: Stack, browser: Browser) -> None:
    """A report may give a birth date instead of an age: the list and the case page work it
    out (they showed nothing)."""
    await add_console_keys(stack)
    today = datetime.now(UTC).date()
    born = today.replace(year=today.year - 7) - timedelta(days=1)  # seven, since yesterday
    body = report_body()
    body["child"] = {k: v for k, v in body["child"].items() if k != "age"}
    body["child"]["birth_date"] = born.isoformat()
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    page, watch = await open_page(browser, f"{stack.base_url}/console/")
    try:
        await sign_in(page, stack.keys["police"])
        row = page.locator(f"#cases tr[data-case='{case_id}']")
        await row.wait_for()
        assert re.fullmatch(r"7\D+", await row.locator("td").nth(2).text_content() or "")
        await row.locator("a.child-name").click()
        await page.locator("#child-name").wait_for()
        # The public fields list the age under its label (the first "Âge", in French).
        age = page.locator("dl.fields dt:text-is('Âge') + dd").first
        assert re.fullmatch(r"7\D+", await age.text_content() or "")
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside


async def test_place_names_on_the_map_show_as_typed(stack: Stack, browser: Browser) -> None:
    """A place name is whatever the report, or any unit's patrol for a sighting, typed: the
    map's tooltips show it as text. (Leaflet parses a string tooltip as HTML: a patrol's
    sighting could send a reviewer's tab to another site with a meta refresh.)"""
    await add_console_keys(stack)
    typed = '<meta http-equiv="refresh" content="0;url=about:blank"><img src=x id=injected>Anfa'
    body = report_body()
    body["last_seen"]["place_name"] = typed
    async with stack.client("submitter") as police:
        created = await police.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        sighting = {
            "location": {"lat": 33.60, "lon": -7.55},
            "at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
            "place_name": typed,
        }
        added = await police.post(f"/v1/reports/{case_id}/sightings", json=sighting)
        assert added.status_code == 201, added.text
    page, watch = await open_page(browser, f"{stack.base_url}/console/")
    try:
        await sign_in(page, stack.keys["police"])
        await open_case(page, case_id)
        for marker in ("path.last-seen", "path.sighting"):
            await page.locator(marker).first.hover()
            tooltip = page.locator(".leaflet-tooltip", has_text="Anfa")
            await tooltip.wait_for()
            assert await tooltip.text_content() == typed
            assert await page.locator(".leaflet-tooltip img, .leaflet-tooltip meta").count() == 0
            await page.mouse.move(0, 0)
            await tooltip.wait_for(state="detached")
        assert page.url.startswith(stack.base_url), page.url  # still on the console
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside


async def test_a_new_deliveries_filter_stops_the_list_it_replaces(
    stack: Stack, browser: Browser
) -> None:
    """Each filter draws its own list, refreshed every second: the list it replaces must stop
    asking for its own (each change of filter added a loop polling the API for good)."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "officer") as page:
        await page.locator("a[data-nav='nav.deliveries']").click()
        for status in ("delivered", "dead"):
            await page.locator("#delivery-filter").select_option(status)
        # The last filter's own first request: a request the page made before it (the list
        # just replaced asking once as it was drawn) reaches the test first, not among those
        # counted below, as the browser reports requests in the order it makes them.
        async with page.expect_request(lambda r: "status=pending" in r.url) as first:
            await page.locator("#delivery-filter").select_option("pending")
        await first.value
        asked = []
        for _ in range(4):  # four seconds of refreshes: every one is the last filter's
            async with page.expect_request(lambda r: "/v1/deliveries?" in r.url) as request:
                pass
            asked.append(parse_qs(urlsplit((await request.value).url).query).get("status"))
        assert asked == [["pending"]] * 4


async def two_a_page(route: Route) -> None:
    """A list of cases asked for in pages of 2 (the console asks for 100 or 200)."""
    await route.continue_(url=re.sub(r"limit=\d+", "limit=2", route.request.url))


async def test_the_cases_list_and_the_queue_page_on_to_older_cases(
    stack: Stack, browser: Browser
) -> None:
    """Past a page, the older cases are a button away. The cases list showed the newest 100
    and the queue the newest 200, and said nothing of the rest: a unit's older cases were out
    of reach, and the cases waiting longest were hidden from reviewers. Pages of 2 here."""
    await add_console_keys(stack)
    async with stack.client("police") as police:
        filed = {
            (await police.post("/v1/reports", json=report_body())).json()["id"] for _ in "12345"
        }
    async with console_page(stack, browser, "officer") as page:
        await page.route(re.compile(r"/v1/reports\?"), two_a_page)
        for rows, nav, more in (  # (the queue first: the cases list is already drawn)
            ("#queue", "nav.review", "#more-queue"),
            ("#cases", "nav.cases", "#more-cases"),
        ):
            await page.locator(f"a[data-nav='{nav}']").click()
            listed = page.locator(f"{rows} tr[data-case]")
            await expect(listed).to_have_count(2)
            button = page.locator(more)
            await button.click()
            await expect(listed).to_have_count(4)
            # The reader goes on from the first case the button brought.
            await expect(listed.nth(2).locator("a.child-name")).to_be_focused()
            await button.click()
            await expect(listed).to_have_count(5)
            await expect(button).to_be_hidden()
            assert set(await listed.evaluate_all("rows => rows.map(r => r.dataset.case)")) == filed


async def test_a_case_page_shows_its_newest_acts_however_long_its_audit_timeline(
    stack: Stack, browser: Browser
) -> None:
    """The timeline asked for one page of the case's audit entries, oldest first: a case with
    more than a page hid its newest acts, its resolution among them. Pages of 2 here."""
    await add_console_keys(stack)
    async with stack.client("police") as police, stack.client("officer") as officer:
        report, _ = await an_approved_case(police, officer)
        resolved = await police.post(f"{report}/resolve", json={})
        assert resolved.status_code == 200, resolved.text
        listed = await officer.get("/v1/audit", params={"case_id": report.rsplit("/", 1)[1]})
    actions = [e["action"] for e in listed.json()["items"]]
    assert len(actions) == 3 and actions[-1] == "resolve", actions
    async with console_page(stack, browser, "officer") as page:
        await page.route(re.compile(r"/v1/audit\?"), two_a_page)
        await open_case(page, report.rsplit("/", 1)[1])
        timeline = page.locator("#audit ol.timeline li")
        await expect(timeline).to_have_count(3)


# The new-case form's map, as the page projects it: a point's pixel in the map's box, and the
# point a pixel stands for, rounded to 5 decimals as the form rounds it.
PIXEL_OF = """([lat, lon]) => {
  const p = window.formMaps.at(-1).latLngToContainerPoint([lat, lon]);
  return [p.x, p.y];
}"""
POINT_AT = """([x, y]) => {
  const point = window.formMaps.at(-1).containerPointToLatLng([x, y]);
  return [Number(point.lat.toFixed(5)), Number(point.lng.toFixed(5))];
}"""


async def click_map_at(page: Page, point: list[float]) -> list[float]:
    """Clicks the form's map at the pixel nearest ``point``; gives back where the map took the
    click (the box may sit at a fraction of a pixel, which the mouse does not)."""
    pixel = [round(c) for c in await page.evaluate(PIXEL_OF, point)]
    await page.evaluate(
        "() => { window.formMaps.at(-1).once('click', (e) => {"
        " window.mapClicked = [e.containerPoint.x, e.containerPoint.y]; }); }"
    )
    await page.locator("#last-seen-map").click(position={"x": pixel[0], "y": pixel[1]})
    clicked: list[float] = await page.evaluate("window.mapClicked")
    assert clicked == pytest.approx(pixel, abs=1)
    return clicked


async def marker_pixel(page: Page) -> list[float]:
    """The centre of the form map's marker, in the map's box."""
    box = await page.locator("#last-seen-map").bounding_box()
    marker = await page.locator("#last-seen-map .point-marker").bounding_box()
    assert box is not None and marker is not None
    return [
        marker["x"] + marker["width"] / 2 - box["x"] - 1,  # the map's 1 px border
        marker["y"] + marker["height"] / 2 - box["y"] - 1,
    ]


async def fields_point(page: Page) -> list[float]:
    """The point the form's latitude and longitude fields hold."""
    form = page.locator("#new-case")
    return [float(await form.locator(f"#{axis}").input_value()) for axis in ("lat", "lon")]


async def test_the_last_seen_point_is_placed_on_the_new_case_forms_map(
    stack: Stack, browser: Browser
) -> None:
    """The officer places the last-seen point on a map of the form (the case page's base
    map, the service area drawn on it): typed coordinates move its marker, a click, a drag or
    the arrow keys fill the fields, a point out at sea is refused under the latitude in the
    API's words, and the case is filed at the point clicked. The form had two number fields
    only."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        # Each map the page makes, to read its projection (Leaflet keeps no list of them).
        await page.evaluate(
            "() => { L.Map.addInitHook(function () { (window.formMaps ??= []).push(this); }); }"
        )
        form = await fill_new_case(page)  # Casablanca's coordinates typed
        await page.locator("#last-seen-map[data-base-map=drawn]").wait_for()
        # The service area, a dashed line, which the hint names.
        await page.locator("#last-seen-map[data-service-area=drawn] path.service-area").wait_for()
        await expect(page.locator("#service-area-hint")).to_be_visible()
        await form.locator("#sex").select_option("female")
        marker = page.locator("#last-seen-map .point-marker")
        await expect(marker).to_have_count(1)
        for lat, lon in ((33.5731, -7.5898), (31.6295, -7.9811)):  # and then Marrakech
            await form.locator("#lat").fill(str(lat))
            await form.locator("#lon").fill(str(lon))
            expected = await page.evaluate(PIXEL_OF, [lat, lon])
            assert await marker_pixel(page) == pytest.approx(expected, abs=1)
        await expect(page.locator("#last-seen-point")).to_contain_text("31.6295, -7.9811")

        # The arrow keys move the marker, on the focused map: east, the latitude kept.
        await page.locator("#last-seen-map").focus()
        await page.keyboard.press("ArrowRight")
        await expect(form.locator("#lon")).not_to_have_value("-7.9811")
        lat, lon = await fields_point(page)
        assert lat == 31.6295 and lon > -7.9811

        # Dragged, the marker takes the fields where it is dropped.
        start = await marker_pixel(page)
        box = await page.locator("#last-seen-map").bounding_box()
        assert box is not None
        await page.mouse.move(box["x"] + 1 + start[0], box["y"] + 1 + start[1])
        await page.mouse.down()
        await page.mouse.move(box["x"] + 1 + start[0] + 25, box["y"] + 1 + start[1] - 15, steps=5)
        await page.mouse.up()
        dropped = await page.evaluate(POINT_AT, [start[0] + 25, start[1] - 15])
        await expect(form.locator("#lat")).to_have_value(str(dropped[0]))
        assert await fields_point(page) == dropped

        # Out at sea, far off the coast: the API's refusal, said under the latitude.
        sea = await click_map_at(page, [30.0, -16.0])
        assert await fields_point(page) == await page.evaluate(POINT_AT, sea)
        await form.locator("button[type=submit]").click()
        await expect(form.locator("#lat")).to_have_attribute("aria-invalid", "true")
        await expect(form.locator("#lat-error")).to_contain_text("outside the service area")

        # Clicked at Fès's pixel: the fields hold the point the page projects there.
        pixel = await click_map_at(page, [34.0331, -5.0003])
        clicked = await page.evaluate(POINT_AT, pixel)
        assert await fields_point(page) == clicked
        assert await marker_pixel(page) == pytest.approx(pixel, abs=1)
        await expect(form.locator("#lat")).not_to_have_attribute("aria-invalid", "true")
        await form.locator("button[type=submit]").click()
        await page.wait_for_url(re.compile(r"#/cases/[\w-]+$"))
        case_id = page.url.rsplit("/", 1)[1]
    async with stack.client("police") as api:
        report = (await api.get(f"/v1/reports/{case_id}")).json()["report"]
    assert [report["last_seen"]["location"][axis] for axis in ("lat", "lon")] == clicked


async def test_a_place_name_is_shown_where_the_case_would_be_put(
    stack: Stack, browser: Browser
) -> None:
    """While no point is placed, the place name typed is shown on the form's map where the
    API will put the case (a hollow marker) and said with its region; a name that is no
    place, or several, is said to be refused without a point, with the places it may mean.
    A point placed takes the marker back. Choosing a name moved nothing before."""
    await add_console_keys(stack)
    async with console_page(stack, browser, "police") as page:
        await page.evaluate(
            "() => { L.Map.addInitHook(function () { (window.formMaps ??= []).push(this); }); }"
        )
        await page.locator("a[data-nav='nav.new']").click()
        form = page.locator("#new-case")
        await page.locator("#last-seen-map[data-base-map=drawn]").wait_for()
        place, said = form.locator("#place_name"), form.locator("#place-name-found")
        marker = page.locator("#last-seen-map .point-marker")
        async with stack.client("police") as api:
            dakhla = (await api.get("/v1/map/place", params={"name": "Dakhla (MA-12)"})).json()

        await place.fill("Dakhla (MA-12)")
        await place.press("Tab")  # left changed
        await expect(said).to_have_text(
            "Sans point placé, le nom place le cas à "
            f"{_place_label(dakhla['name_fr'], 'Dakhla-Oued Ed-Dahab')}"
        )
        await expect(marker).to_have_class(re.compile(r"\bnamed\b"))
        expected = await page.evaluate(PIXEL_OF, [dakhla["lat"], dakhla["lon"]])
        assert await marker_pixel(page) == pytest.approx(expected, abs=1)
        assert [await form.locator(f"#{a}").input_value() for a in ("lat", "lon")] == ["", ""]

        await place.fill("Dakhla")  # two places of that name
        await place.press("Tab")
        await expect(said).to_have_text(
            "Pas un seul lieu connu de ce nom : sans point placé sur la carte, le cas serait "
            f"refusé. Il peut s'agir de : {_place_label('Dakhla', 'Dakhla-Oued Ed-Dahab')}; "
            f"{_place_label('Dakhla', 'Souss-Massa')}"
        )
        await expect(marker).to_have_count(0)
        await place.fill("Atlantis")
        await place.press("Tab")
        await expect(said).to_contain_text("Aucun lieu connu de ce nom")

        # A point placed is the marker's, solid; cleared, the name's point is shown again.
        await place.fill("Fès")
        await place.press("Tab")
        await expect(said).to_contain_text("Fès")
        await form.locator("#lat").fill("34.05")
        await form.locator("#lon").fill("-4.98")
        await expect(marker).not_to_have_class(re.compile(r"\bnamed\b"))
        await form.locator("#lat").fill("")
        await expect(marker).to_have_class(re.compile(r"\bnamed\b"))
        async with stack.client("police") as api:
            fes = (await api.get("/v1/map/place", params={"name": "Fès"})).json()
        expected = await page.evaluate(PIXEL_OF, [fes["lat"], fes["lon"]])
        assert await marker_pixel(page) == pytest.approx(expected, abs=1)


def _place_label(name: str, region: str) -> str:
    """A place as the form says it: each name isolated (U+2068 … U+2069), so that an Arabic
    one keeps its own direction in a French sentence, and the reverse."""
    return f"\u2068{name}\u2069 (\u2068{region}\u2069)"


async def test_a_case_closed_before_its_alert_is_down_gets_its_map_taken_down(
    stack: Stack, browser: Browser
) -> None:
    """The case page drawn right after a resolution may find the alert still up: the engine
    takes it down a moment later. The page showed that live zone for good (seen on a loaded
    machine); it looks again until the alert is down. The lag is made here by answering the
    first look after the resolution with the alert as it stood before it."""
    await add_console_keys(stack)
    async with stack.client("police") as police, stack.client("officer") as officer:
        report, alert_id = await an_approved_case(police, officer)
        await eventually(
            lambda: officer.get(f"/v1/alerts/{alert_id}"), lambda r: r.status_code == 200
        )
    lagging: list[str] = []

    async def as_before_the_resolution(route: Route) -> None:
        answer = await route.fetch()
        body = await answer.json()
        if lagging and body["state"] != "active":
            lagging.pop()
            body["state"] = "active"
        await route.fulfill(response=answer, json=body)

    async with console_page(stack, browser, "officer") as page:
        await page.route(f"**/v1/alerts/{alert_id}", as_before_the_resolution)
        await open_case(page, report.rsplit("/", 1)[1])
        await page.locator("path.zone-exact").wait_for()
        assert await page.locator("#map .taken-down").count() == 0
        lagging.append("the next look")
        await confirm(page, "resolve")
        await page.locator("#case-status.resolved").wait_for()
        await expect(page.locator("#map .taken-down")).to_have_text(
            "Retirée : les partenaires ne montrent plus cette zone."
        )
        assert not lagging  # the page was drawn on the lagging answer first


async def test_the_maps_legend_names_only_what_the_map_shows(
    stack: Stack, browser: Browser
) -> None:
    """The legend lists the marks the map draws: a case not yet approved, or approved but
    seen by a key that may not read its alert, has no polygon, zone, reach or corridor (it
    named all four, over a map showing none of them)."""
    await add_console_keys(stack)
    sighting = {"location": {"lat": 33.6, "lon": -7.5}, "at": datetime.now(UTC).isoformat()}
    async with stack.client("police") as police, stack.client("reviewer") as reviewer:
        submitted = (await police.post("/v1/reports", json=report_body())).json()["id"]
        report, _ = await an_approved_case(police, reviewer)
        added = await police.post(f"{report}/sightings", json=sighting)
        assert added.status_code == 201, added.text
    approved = report.rsplit("/", 1)[1]
    zone = [
        "Polygone envoyé aux partenaires",
        "Zone exacte (sur le territoire)",
        "Portée depuis chaque lieu",
    ]
    points = ["Vu pour la dernière fois", "Signalement (non confirmé)"]
    for key, alert in (("police", []), ("officer", zone)):
        async with console_page(stack, browser, key) as page:
            legend = page.locator("#map-legend li")
            await open_case(page, submitted)
            await expect(legend).to_have_text(points[:1])
            await open_case(page, approved)
            if alert:
                await page.locator("path.zone-sent").wait_for()
            await expect(legend).to_have_text([*alert, *points])
