"""The console as an operator meets it, in Debian's Chromium: a reviewer's click on Approve
until the partner's delivery shows as delivered in the page, beside the same approval made
straight through the API and polled there (the pipeline without the page) in the same run,
cases alternating; and the console's first load (time and bytes transferred) beside /docs.

    .venv/bin/python -m bench.console --cases 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

from services.testbed.browser import CHROMIUM_ARGS, chromium_executable_path, open_page
from services.testbed.partner import partner_endpoint
from services.testbed.sample_report import CRITERIA, report_body
from services.testbed.stack import Stack, embedded_settings, start_stack
from shared.auth import create_api_key

OFFICER = ["reports:review", "reports:read", "alerts:read", "deliveries:read"]
POLICE = ["reports:submit", "reports:read"]
DELIVERED = "#deliveries tr[data-event='alert.issued'] .status.delivered"

# Sums what the page fetched over the network (headers included) once it has settled.
TRANSFERRED = """() => {
  const [nav] = performance.getEntriesByType("navigation");
  const resources = performance.getEntriesByType("resource");
  return {
    bytes: [nav, ...resources].reduce((sum, e) => sum + e.transferSize, 0),
    files: 1 + resources.length,
  };
}"""


async def submit(police: httpx.AsyncClient) -> str:
    created = await police.post("/v1/reports", json=report_body(message_status="Exercise"))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def approve_in_console(page: Page, case_id: str) -> float:
    await page.evaluate(f"location.hash = '#/cases/{case_id}'")
    review = page.locator("#review")
    await review.wait_for()
    for criterion in await review.locator("input[type=checkbox]").all():
        await criterion.check()
    clicked = time.perf_counter()
    await review.locator("#approve").click()
    await page.locator(DELIVERED).wait_for()
    return (time.perf_counter() - clicked) * 1000


async def approve_through_api(
    reviewer: httpx.AsyncClient, officer: httpx.AsyncClient, case_id: str
) -> float:
    started = time.perf_counter()
    approved = await reviewer.post(f"/v1/reports/{case_id}/approve", json=CRITERIA)
    alert_id = approved.json()["alert_id"]
    while True:
        page = await officer.get("/v1/deliveries", params={"alert_id": alert_id})
        if any(d["status"] == "delivered" for d in page.json()["items"]):
            return (time.perf_counter() - started) * 1000
        await asyncio.sleep(0.02)


async def first_load(browser: Browser, url: str, ready: str) -> dict[str, Any]:
    page, watch = await open_page(browser, url)
    try:
        await page.locator(ready).first.wait_for()
        shown_ms = await page.evaluate("performance.now()")  # since the navigation started
        await page.wait_for_load_state("networkidle")  # the bytes of everything it loads
        figures: dict[str, Any] = await page.evaluate(TRANSFERRED)
    finally:
        await page.context.close()
    assert not watch.outside, watch.outside
    return {"ms": shown_ms, **figures}


async def run(cases: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        stack, server = await start_stack(embedded_settings(Path(work)))
        try:
            await measure(stack, cases)
        finally:
            await server.__aexit__(None, None, None)


async def measure(stack: Stack, cases: int) -> None:
    async with stack.embedded.sessions() as session, session.begin():
        stack.keys["officer"] = await create_api_key(session, "officer", OFFICER, datetime.now(UTC))
        stack.keys["police"] = await create_api_key(session, "police", POLICE, datetime.now(UTC))
    console_ms: list[float] = []
    api_ms: list[float] = []
    async with (
        partner_endpoint() as partner,
        async_playwright() as playwright,
        stack.client("police") as police,
        stack.client("reviewer") as reviewer,
        stack.client("officer") as officer,
    ):
        await stack.register_partner(partner)
        browser = await playwright.chromium.launch(
            executable_path=chromium_executable_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            console = await first_load(browser, f"{stack.base_url}/console/", "#sign-in")
            docs = await first_load(browser, f"{stack.base_url}/docs", ".swagger-ui .info")
            page, watch = await open_page(browser, f"{stack.base_url}/console/")
            await page.locator("#api-key").fill(stack.keys["officer"])
            await page.locator("#sign-in button[type=submit]").click()
            await page.locator("#sign-out").wait_for()
            for _ in range(cases):  # alternating, so both see the same machine
                console_ms.append(await approve_in_console(page, await submit(police)))
                api_ms.append(await approve_through_api(reviewer, officer, await submit(police)))
            case_page = await page.evaluate(TRANSFERRED)
            await page.context.close()
            assert not watch.outside, watch.outside
        finally:
            await browser.close()

    print(f"approve → delivered, {cases} cases each (ms):")
    print(
        f"  console (click → shown in page)   median {statistics.median(console_ms):7.0f}"
        f"  min {min(console_ms):6.0f}  max {max(console_ms):6.0f}"
    )
    print(
        f"  baseline (API call → API polled)  median {statistics.median(api_ms):7.0f}"
        f"  min {min(api_ms):6.0f}  max {max(api_ms):6.0f}"
    )
    print("first load, cold cache (time until usable; bytes of all it loads):")
    print(
        f"  /console/  {console['ms']:7.0f} ms  {console['bytes'] / 1024:7.1f} KiB"
        f" in {console['files']} files"
    )
    print(
        f"  /docs      {docs['ms']:7.0f} ms  {docs['bytes'] / 1024:7.1f} KiB"
        f" in {docs['files']} files   (baseline)"
    )
    print(
        f"  the console session, {cases} case pages on: {case_page['bytes'] / 1024:.1f} KiB"
        f" in {case_page['files']} files (base map included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.cases))


if __name__ == "__main__":
    main()
