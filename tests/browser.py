"""Debian's Chromium (installed by deploy/browser/chromium.sh) driven by Playwright, as an
operator on a network without internet access meets the pages: every request outside
loopback refused and counted as a failure."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route, async_playwright

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium, installed on first use. A failure here fails the test: a browser
    test that skips itself would hide a page that stopped working."""
    script = ROOT / "deploy" / "browser" / "chromium.sh"
    done = subprocess.run(
        ["bash", str(script), "install"], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"chromium.sh install failed:\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
async def browser(chromium_executable: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (parts.hostname or "") in LOOPBACK


class Watch:
    """What a page asked for outside loopback, and what its console complained about."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.console_errors: list[str] = []

    async def route(self, route: Route) -> None:
        url = route.request.url
        if is_loopback(url):
            await route.continue_()
        else:
            self.outside.append(url)
            await route.abort()

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


async def open_page(browser: Browser, url: str) -> tuple[Page, Watch]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    watch = Watch()
    await context.route("**/*", watch.route)
    page = await context.new_page()
    page.on("console", watch.console)
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(url)
    return page, watch
