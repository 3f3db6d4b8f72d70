"""The browser fixtures for the pages' tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from services.testbed.browser import CHROMIUM_ARGS, chromium_executable_path


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium, installed on first use. A failure here fails the test (the
    exception propagates): a browser test that skips itself would hide a page that stopped
    working."""
    return chromium_executable_path()


@pytest.fixture(scope="module")
async def browser(chromium_executable: str) -> AsyncIterator[Browser]:
    """One Chromium per test module: every test opens a context of its own (``open_page``),
    which shares no cookies, storage or cache with another, and closes it; starting the
    browser for each test added most of a second to each."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
