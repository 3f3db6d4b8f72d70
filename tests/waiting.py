"""Waiting for a condition that only an API can show (no event to await across HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ready: Callable[[T], bool],
    *,
    timeout: float = 15.0,
    interval: float = 0.02,
) -> T:
    """Calls ``probe`` until ``ready`` holds for its result; fails after ``timeout``."""
    async with asyncio.timeout(timeout):
        while True:
            value = await probe()
            if ready(value):
                return value
            await asyncio.sleep(interval)
