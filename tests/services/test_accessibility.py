"""What an accessibility audit finds in the pages people read, run as auditors run it: axe-core
(Deque's engine, behind browsers' own audits) in Chromium. The console, page by page in each
of its languages, must give it nothing to flag. The API's documentation is Swagger UI and
ReDoc: their colours and landmarks are ours to set (``services/docs_readable.css``, ReDoc's
theme), and are checked, Swagger UI's with an operation open and the Authorize dialog shown;
their markup is not."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from services.testbed.browser import open_page
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.services.console_steps import add_console_keys, console_page, open_case

# Swagger UI's own markup, which no stylesheet changes: a button inside each operation's
# summary button, headings that skip a level, the request body's editor and the dialog's
# close button without a name, an example's scrolling box out of the tab order.
SWAGGER_UI_MARKUP = {
    "nested-interactive",
    "heading-order",
    "label",
    "button-name",
    "scrollable-region-focusable",
}
# ReDoc's: headings that skip a level, code samples' scrolling boxes out of the tab order.
REDOC_MARKUP = {"heading-order", "scrollable-region-focusable"}


async def _flagged(page: Page) -> dict[str, list[Any]]:
    """Each rule the page breaks, with (up to three of) the elements that break it."""
    results = await Axe().run(page)
    return {v["id"]: [n["target"] for n in v["nodes"][:3]] for v in results.response["violations"]}


async def test_the_console_gives_an_accessibility_audit_nothing_to_flag(
    stack: Stack, browser: Browser
) -> None:
    await add_console_keys(stack)
    async with stack.clients("police", "reviewer") as (police, reviewer):
        waiting = (await police.post("/v1/reports", json=report_body())).json()["id"]
        published = (await police.post("/v1/reports", json=report_body())).json()["id"]
        approved = await reviewer.post(f"/v1/reports/{published}/approve", json=CRITERIA)
        assert approved.status_code == 200, approved.text
    flagged: dict[str, dict[str, list[Any]]] = {}
    async with console_page(stack, browser, "officer") as page:
        for language in ("fr", "ar", "en"):
            await page.locator("#language").select_option(language)
            await page.locator("a[data-nav='nav.cases']").click()
            await page.locator(f"#cases tr[data-case='{published}']").wait_for()
            flagged[f"{language} cases"] = await _flagged(page)
            await page.locator("a[data-nav='nav.review']").click()
            await page.locator(f"#queue [data-case='{waiting}']").first.wait_for()
            flagged[f"{language} review queue"] = await _flagged(page)
            await open_case(page, waiting)
            await page.locator("#review").wait_for()
            flagged[f"{language} case to review"] = await _flagged(page)
            await open_case(page, published)
            await page.locator("#map[data-base-map=drawn] path.zone-sent").wait_for()
            flagged[f"{language} case with its alert"] = await _flagged(page)
            await page.locator("a[data-nav='nav.deliveries']").click()
            await page.locator("#deliveries").wait_for()
            flagged[f"{language} deliveries"] = await _flagged(page)
            await page.locator("a[data-nav='nav.new']").click()
            await page.locator("#new-case").wait_for()
            flagged[f"{language} new case"] = await _flagged(page)
    assert {where: rules for where, rules in flagged.items() if rules} == {}


async def test_the_api_documentation_is_flagged_only_for_swagger_uis_own_markup(
    stack: Stack, browser: Browser
) -> None:
    page, watch = await open_page(browser, f"{stack.base_url}/docs")
    try:
        await page.locator(".opblock-summary-control").first.wait_for()
        flagged = {"page": await _flagged(page)}
        # An operation open, tried out (its parameters, its body, Execute and Cancel).
        await page.locator(".opblock-summary-control").first.click()
        await page.locator(".try-out__btn").first.click()
        await page.locator(".btn.execute").first.wait_for()
        flagged["an operation tried out"] = await _flagged(page)
        await page.locator(".btn.authorize").first.click()
        await page.locator(".modal-ux").wait_for()
        flagged["the Authorize dialog"] = await _flagged(page)
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside
    assert {w: sorted(set(rules) - SWAGGER_UI_MARKUP) for w, rules in flagged.items()} == {
        w: [] for w in flagged
    }
    # The rules left to Swagger UI are there, so the audit did run on its page.
    assert "nested-interactive" in flagged["page"]


async def test_the_api_reference_is_flagged_only_for_redocs_own_markup(
    stack: Stack, browser: Browser
) -> None:
    page, watch = await open_page(browser, f"{stack.base_url}/redoc")
    try:
        # Drawn whole: the last operation's section is there.
        await page.locator("[id='operation/webhook_partner_verify']").wait_for()
        flagged = await _flagged(page)
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside
    assert sorted(set(flagged) - REDOC_MARKUP) == []
    assert "heading-order" in flagged  # the audit did run on the page drawn
