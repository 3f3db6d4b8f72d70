"""Debian's Chromium (installed by deploy/browser/chromium.sh) driven by Playwright, as an
operator on a network without internet access meets the pages: every request outside
loopback refused and counted."""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

from playwright.async_api import Browser, ConsoleMessage, Page, Route

from services.testbed.backing_servers import ROOT

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


class BrowserMissing(RuntimeError):
    """Chromium is not installed and could not be."""


def chromium_executable_path() -> str:
    """The path of Debian's chromium, installing it on first use (needs root)."""
    script = ROOT / "deploy" / "browser" / "chromium.sh"
    done = subprocess.run(
        ["bash", str(script), "install"], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise BrowserMissing(f"chromium.sh install failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def is_loopback(url: str) -> bool:
    """Whether a page's request stays on this machine (data: and blob: URLs do)."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (parts.hostname or "") in LOOPBACK


class Watch:
    """What a page asked for outside loopback, and what its console complained about."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.console_errors: list[str] = []

    async def route(self, route: Route) -> None:
        """Let loopback requests through; refuse and record every other one."""
        url = route.request.url
        if is_loopback(url):
            await route.continue_()
        else:
            self.outside.append(url)
            await route.abort()

    def console(self, message: ConsoleMessage) -> None:
        """Record the page's console errors (a CSP refusal shows there)."""
        if message.type == "error":
            self.console_errors.append(message.text)


async def addresses_on(page: Page) -> list[str]:
    """Every src and href on the drawn page, resolved: what it would load or link to."""
    addresses: list[str] = await page.evaluate(
        "[...document.querySelectorAll('[href],[src]')].map(e => new URL("
        "e.getAttribute('href') ?? e.getAttribute('src'), document.baseURI).href)"
    )
    return addresses


async def open_page(
    browser: Browser, url: str, timezone_id: str | None = None
) -> tuple[Page, Watch]:
    """A fresh context and page at ``url``, watched for outside requests and console errors;
    the browser's clock set to ``timezone_id`` if given (an IANA name)."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 1000}, timezone_id=timezone_id
    )
    watch = Watch()
    await context.route("**/*", watch.route)
    page = await context.new_page()
    page.on("console", watch.console)
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(url)
    return page, watch
