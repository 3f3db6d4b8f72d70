"""Real Kafka and PostgreSQL for the tests: the project's own deploy scripts start them once
per session, unless KAFKA_BOOTSTRAP_SERVERS / TIFLI_TEST_DATABASE_URL point at running ones.
A server that cannot start fails the tests that need it; it never turns them into skips."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(script: Path, action: str, env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        ["bash", str(script), action],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{script.name} {action} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


@contextmanager
def kafka_broker(work_dir: Path) -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    script = ROOT / "deploy" / "kafka" / "kafka.sh"
    env = {
        "KAFKA_PORT": str(free_port()),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_WORK_DIR": str(work_dir),
    }
    _run(script, "start", env, timeout=900)  # the first run fetches the broker's jars
    try:
        yield f"127.0.0.1:{env['KAFKA_PORT']}"
    finally:
        _run(script, "stop", env, timeout=120)


@contextmanager
def postgres_server() -> Iterator[str]:
    given = os.environ.get("TIFLI_TEST_DATABASE_URL")
    if given:
        yield given
        return
    script = ROOT / "deploy" / "postgres" / "postgres.sh"
    port = str(free_port())
    # The data directory is the script's own throwaway one (it must be reachable by the
    # unprivileged server user, which pytest's private temporary directories are not).
    env = {"PG_PORT": port}
    _run(script, "start", env, timeout=900)  # the first run installs the server package
    try:
        yield f"postgresql+asyncpg://tifli:tifli@127.0.0.1:{port}/tifli"
    finally:
        _run(script, "stop", env, timeout=120)
