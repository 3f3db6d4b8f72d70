"""The browser fixtures for the pages' tests (tests/browser.py)."""

from tests.browser import browser, chromium_executable

__all__ = ["browser", "chromium_executable"]
