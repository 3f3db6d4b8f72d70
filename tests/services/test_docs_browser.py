"""/docs and /redoc in a real browser, as an operator on a network without internet access
meets them (tests/browser.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from playwright.async_api import Browser, Request

from services.docs_pages import ASSET_RELEASES, ASSETS_DIR, LICENSES_DIR
from services.testbed.browser import addresses_on, is_loopback, open_page
from services.testbed.stack import Stack


async def test_docs_sign_in_and_submit_the_example(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    page, watch = await open_page(browser, f"{stack.base_url}/docs")
    try:
        await page.locator(".swagger-ui .info .title").filter(has_text="Tifli").wait_for()
        # Said to be English (the descriptions' language), so a screen reader reads it so.
        assert await page.locator("html").get_attribute("lang") == "en"

        # Authorize: the bearer scheme's dialog takes the key; calls then carry it.
        await page.locator(".swagger-ui .auth-wrapper button.authorize").click()
        dialog = page.locator(".swagger-ui .modal-ux")
        await dialog.locator("input[type=text], input[type=password]").first.fill(
            stack.keys["submitter"]
        )
        await dialog.locator("button.authorize").click()
        await dialog.locator("button.btn-done").click()
        await page.locator(".swagger-ui .auth-wrapper button.authorize.locked").wait_for()
        await page.screenshot(path=str(tmp_path / "docs-signed-in.png"))

        # Try it out on POST /v1/reports with the example exactly as shown.
        operation = page.locator("#operations-reports-reports_submit")
        await operation.locator(".opblock-summary").click()
        await operation.locator("button.try-out__btn").click()
        shown = await operation.locator("textarea.body-param__text").input_value()
        assert '"last_seen"' in shown
        requests: list[Request] = []
        page.on("request", lambda request: requests.append(request))
        async with page.expect_response(
            lambda r: r.url.endswith("/v1/reports") and r.request.method == "POST"
        ) as answer:
            await operation.locator("button.execute").click()
        response = await answer.value
        assert response.status == 201, await response.text()
        [sent] = [r for r in requests if r.url.endswith("/v1/reports") and r.method == "POST"]
        assert sent.headers["authorization"] == f"Bearer {stack.keys['submitter']}"
        # The page shows the answer: the live response's status cell (not the header's).
        status = operation.locator(".live-responses-table tbody .response-col_status")
        await status.filter(has_text="201").wait_for()
        await operation.locator(".live-responses-table").scroll_into_view_if_needed()
        addresses = await addresses_on(page)

    finally:
        # Also on failure: the picture says what the operator would have seen.
        await page.screenshot(path=str(tmp_path / "docs.png"))
        await page.context.close()
    assert not watch.outside, watch.outside
    assert addresses and [a for a in addresses if not is_loopback(a)] == []
    assert not [e for e in watch.console_errors if "Content Security Policy" in e]


async def test_redoc_renders_offline(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    page, watch = await open_page(browser, f"{stack.base_url}/redoc")
    try:
        await page.locator("h1").filter(has_text="Tifli").first.wait_for()
        await page.locator("h2").filter(has_text="Submit a report").wait_for()
        assert await page.locator("html").get_attribute("lang") == "en"
        # The examples' URLs (a photo, a partner's address) are shown as text, not links.
        photo = page.locator(".token.string").filter(has_text="https://photos.example.org/")
        await photo.first.wait_for(state="attached")
        await page.screenshot(path=str(tmp_path / "redoc.png"))
        # Nothing on the drawn page points outside the machine: no src to load, no link to
        # follow (ReDoc's credit links to its licence, served here).
        addresses = await addresses_on(page)
        credit = page.get_by_role("link", name="API docs by Redocly")
        licence = await credit.get_attribute("href")
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside
    assert addresses and [a for a in addresses if not is_loopback(a)] == []
    assert licence == "/docs-assets/licenses/redoc-2.5.3/LICENSE"
    assert not [e for e in watch.console_errors if "Content Security Policy" in e]


async def test_docs_pages_carry_a_content_security_policy(stack: Stack) -> None:
    async with stack.client() as anonymous:
        for path in ("/docs", "/redoc"):
            page = await anonymous.get(path)
            policy = page.headers["content-security-policy"]
            assert "default-src 'none'" in policy
            assert "connect-src 'self'" in policy
            assert "cdn" not in page.text
            assert '<html lang="en">' in page.text  # a screen reader's voice: English
            asset = await anonymous.get("/docs-assets/swagger-ui-bundle.js")
            assert asset.status_code == 200


def test_the_served_assets_are_the_releases_whose_licences_ship() -> None:
    for name, (release, sha256) in ASSET_RELEASES.items():
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == sha256, name
        assert (LICENSES_DIR / release / "LICENSE").is_file(), release


async def test_the_licences_are_served_beside_the_assets(stack: Stack) -> None:
    async with stack.client() as anonymous:
        for release in {release for release, _ in ASSET_RELEASES.values()}:
            licence = await anonymous.get(f"/docs-assets/licenses/{release}/LICENSE")
            assert licence.status_code == 200
            assert "License" in licence.text
