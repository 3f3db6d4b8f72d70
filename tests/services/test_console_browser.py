"""The console at /console/ in a real browser (tests/browser.py), as police, a reviewer and
an operator use it: a case submitted, approved from the queue, its alert on the map and its
delivery watched until the partner has it, a sighting placed on the map, the case resolved
and the Cancel watched in turn — with nothing loaded from outside loopback."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Browser, Page, Request

from shared.auth import create_api_key
from tests.browser import is_loopback, open_page
from tests.conftest import Stack
from tests.flows import register_partner
from tests.partner_server import partner_endpoint

# Markup in a child's name must show as typed, never run or render.
MARKUP_NAME = '<img src=x onerror="document.title=1"><script>document.title=2</script>Amina'
CONSOLE_KEYS = {
    "police": ["reports:submit", "reports:read"],
    "officer": [
        "reports:review",
        "reports:read",
        "reports:submit",
        "alerts:read",
        "deliveries:read",
        "deliveries:ops",
        "audit:read",
    ],
}


async def add_console_keys(stack: Stack) -> None:
    async with stack.embedded.sessions() as session, session.begin():
        for name, scopes in CONSOLE_KEYS.items():
            stack.keys[name] = await create_api_key(session, name, scopes, datetime.now(UTC))


async def sign_in(page: Page, key: str) -> None:
    if await page.locator("#sign-out").is_visible():
        await page.locator("#sign-out").click()
    await page.locator("#api-key").fill(key)
    await page.locator("#sign-in button[type=submit]").click()
    await page.locator("#sign-out").wait_for()


async def submit_case(page: Page) -> str:
    await page.locator("a[data-nav='nav.new']").click()
    form = page.locator("#new-case")
    await form.locator("#given_name").fill(MARKUP_NAME)
    await form.locator("#family_name").fill("Benali")
    await form.locator("#age").fill("9")
    await form.locator("#description").fill("Short black hair, brown eyes, about 130 cm")
    await form.locator("#clothing").fill("Red jacket, blue jeans")
    await form.locator("#place_name").fill("Casablanca")
    await form.locator("#lat").fill("33.5731")
    await form.locator("#lon").fill("-7.5898")
    await form.locator("#travel_mode").select_option("vehicle")
    await form.locator("#circumstances").fill("Left school at 16:30 and never arrived home.")
    await form.locator("#guardian_name").fill("Fatima Benali")
    await form.locator("#guardian_phone").fill("+212 600 000 000")
    await form.locator("#consent").check()
    await form.locator("#officer").fill("Inspector Idrissi")
    await form.locator("#message_status").select_option("Exercise")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"#/cases/[\w-]+$"))
    return page.url.rsplit("/", 1)[1]


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
        await register_partner(stack, partner.url, partner.verify_token)
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
            await page.locator(f"#queue tr[data-case='{case_id}'] a.child-name").click()
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
            assert await page.locator(".texts [lang=zgh]").count() == 1
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

            for language in ("fr", "ar"):
                await screenshots(page, case_id, tmp_path, language)
            # The interface in Arabic, right to left; the Tifinagh text in the vendored font.
            assert await page.locator("html").get_attribute("dir") == "rtl"
            tifinagh = await page.evaluate(
                "document.fonts.load('16px \"Noto Sans Tifinagh\"', 'ⵜⵉⴼⵍⵉ')"
                ".then(faces => faces.length)"
            )
            assert tifinagh == 1
            assert await page.title() == "Tifli — console"
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
