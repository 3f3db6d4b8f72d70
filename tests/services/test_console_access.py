"""The console as keyboard and screen-reader users meet it, in a real browser: what the
tab order reaches and in which order, what each control and value is called and in which
language it is spoken, and a focus that stays where the user left it."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack
from tests.services.console_steps import add_console_keys, console_page


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
