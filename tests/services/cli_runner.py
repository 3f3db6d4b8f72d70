"""Running ``tifli`` as an operator does, in a child process, without blocking the event
loop (the tests' partner endpoints and stacks run in it and must answer meanwhile)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from services.testbed.backing_servers import ROOT


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


# A broker the developer's shell points the suite at (the README's way to reuse running
# servers) is not the command's unless a test gives it: on SQLite it would be refused as
# the production mode before whatever the test checks.
_BROKER_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "TIFLI_KAFKA_BOOTSTRAP_SERVERS")


async def tifli(database_url: str, *args: str, **env: str) -> Done:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in _BROKER_VARIABLES},
            "TIFLI_DATABASE_URL": database_url,
            "TIFLI_WEBHOOK_ALLOW_PRIVATE": "true",  # the tests' partners listen on loopback
            "TIFLI_LOG_LEVEL": "WARNING",
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(240):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Done(process.returncode, out.decode(), err.decode())
