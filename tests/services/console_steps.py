"""What a console user does, step by step, in a real browser: the keys they sign in with,
signing in, filling the new-case form, opening a case, confirming an act."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, Dialog, Locator, Page, expect

from services.testbed.browser import open_page
from services.testbed.stack import Stack
from shared.auth import create_api_key
from shared.time_zones import time_zone

# Markup in a child's name must show as typed, never run or render.
MARKUP_NAME = '<img src=x onerror="document.title=1"><script>document.title=2</script>Amina'
ALERT_ZONE = time_zone("Africa/Casablanca")  # the settings' default, which the tests keep
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


@asynccontextmanager
async def console_page(
    stack: Stack, browser: Browser, key: str, timezone_id: str | None = None
) -> AsyncIterator[Page]:
    """The console in a fresh browser context (its clock in ``timezone_id`` if given), signed
    in as the persona ``key``; nothing may have been asked of anything off loopback."""
    page, watch = await open_page(browser, f"{stack.base_url}/console/", timezone_id)
    try:
        await sign_in(page, stack.keys[key])
        yield page
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside


async def fill_new_case(page: Page, given_name: str = MARKUP_NAME) -> Locator:
    """The new-case form, every field filled but the sex (a test chooses it, or not)."""
    await page.locator("a[data-nav='nav.new']").click()
    form = page.locator("#new-case")
    await form.locator("#given_name").fill(given_name)
    await form.locator("#family_name").fill("Benali")
    await form.locator("#age").fill("9")
    await form.locator("#description").fill("Short black hair, brown eyes, about 130 cm")
    await form.locator("#clothing").fill("Red jacket, blue jeans")
    await form.locator("#place_name").fill("Casablanca")
    seen = datetime.now(UTC) - timedelta(minutes=30)  # on the alert zone's clock, as typed
    await form.locator("#seen_at").fill(seen.astimezone(ALERT_ZONE).strftime("%Y-%m-%dT%H:%M"))
    await form.locator("#lat").fill("33.5731")
    await form.locator("#lon").fill("-7.5898")
    await form.locator("#travel_mode").select_option("vehicle")
    await form.locator("#vehicle").fill("Grey Renault Kangoo van")
    await form.locator("#plate").fill("12345-A-6")
    await form.locator("#circumstances").fill("Left school at 16:30 and never arrived home.")
    await form.locator("#guardian_name").fill("Fatima Benali")
    await form.locator("#guardian_phone").fill("+212 600 000 000")
    await form.locator("#consent").check()
    await form.locator("#officer").fill("Inspector Idrissi")
    await form.locator("#message_status").select_option("Exercise")
    return form


async def submit_case(page: Page) -> str:
    form = await fill_new_case(page)
    await form.locator("#sex").select_option("female")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"#/cases/[\w-]+$"))
    return page.url.rsplit("/", 1)[1]


async def open_case(page: Page, case_id: str) -> None:
    await page.evaluate(f"location.hash = '#/cases/{case_id}'")
    await page.locator(f"[data-case-page='{case_id}']").wait_for()


async def confirm(page: Page, action: str) -> None:
    """Clicks an action's button, then its confirmation (asked once more before it acts)."""
    await page.locator(f"[data-action={action}]").click()
    await page.locator(f"[data-confirm={action}]").click()


def answer_the_next_dialog(page: Page, *, leave: bool) -> asyncio.Future[str]:
    """The next dialog the page opens (``confirm``: leave a form not sent?) answered: accepted
    (``leave``) or dismissed. The future holds its message once it is answered."""
    answered: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def answer(dialog: Dialog) -> None:
        await (dialog.accept() if leave else dialog.dismiss())
        answered.set_result(dialog.message)

    page.once("dialog", answer)
    return answered


async def marked_at_fault(field: Locator, said: str | re.Pattern[str]) -> None:
    """How a form says a field is at fault: the field takes the focus, is marked invalid, and
    reads ``said`` as its description (what a screen reader says on it)."""
    await expect(field).to_be_focused()
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_accessible_description(said)
