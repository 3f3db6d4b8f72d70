"""Production mode for tests and benchmarks: Kafka + PostgreSQL, each service its own OS
process, started exactly as an operator would (``tifli run <role>``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alert_engine.cap_signature import development_pair
from services.components import ALL_ROLES
from services.database import upgrade
from services.testbed.backing_servers import ROOT, postgres_server
from services.testbed.loopback import free_port
from services.testbed.stack import KEY_SCOPES, Stack, embedded_settings, start_stack
from shared.auth import create_api_key
from shared.db import create_engine, session_factory
from shared.relay_leadership import asyncpg_dsn
from shared.sealing import Sealer

WORKER_ROLES = ("relay", "alert-engine", "dispatcher")


@cache
def cap_signing_env() -> dict[str, str]:
    """A CAP signing key and certificate (PEM, in the settings' environment variables): the
    API refuses to start with PostgreSQL without them. One pair for the whole run."""
    key_pem, certificate_pem = development_pair()
    return {
        "TIFLI_CAP_SIGNING_KEY": key_pem.decode(),
        "TIFLI_CAP_SIGNING_CERTIFICATE": certificate_pem.decode(),
    }


async def fresh_database(server_url: str) -> str:
    """A new, empty database on the test server, so every test starts from nothing."""
    name = f"tifli_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


# Per test server: a database that ``tifli db upgrade`` brought to the latest schema, kept
# unopened so PostgreSQL can copy it. The migrations cannot change while the tests run.
_migrated_originals: dict[str, str] = {}


async def migrated_database(server_url: str, env: Mapping[str, str]) -> str:
    """A new database on the test server, as ``tifli db upgrade`` leaves an empty one. The
    run's first is migrated that way, as an operator does it (with ``env``); every stack gets
    a copy of it (``CREATE DATABASE … TEMPLATE``), made in a fraction of the migration's
    seconds that every production-mode test paid. The migrations seal nothing (they write
    the audit chain's genesis only), so a copy suits any data key."""
    original = _migrated_originals.get(server_url)
    if original is None:
        original = await fresh_database(server_url)
        await migrate({**env, "TIFLI_DATABASE_URL": original})
        _migrated_originals[server_url] = original
    name = f"tifli_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        template = original.rsplit("/", 1)[1]
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Processes:
    env: dict[str, str]
    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ops_urls: dict[str, str] = field(default_factory=dict)  # workers' /healthz, /readyz
    # The ports handed out to this stack's servers (the API's, each worker's health port). A
    # port the system calls free is free only until someone binds it, and the processes bind
    # theirs seconds later: asked again meanwhile, the system can hand out the same one (a
    # worker then found the API on its port, and exited).
    ports: set[int] = field(default_factory=set)

    def new_port(self) -> int:
        """A free loopback port not yet handed out to this stack."""
        while (port := free_port()) in self.ports:
            continue
        self.ports.add(port)
        return port

    def start(self, role: str, name: str | None = None) -> subprocess.Popen[bytes]:
        """Starts ``tifli run <role>`` as process ``name`` (default: the role), its output in
        ``name``.log."""
        name = name or role
        log = (self.logs / f"{name}.log").open("ab")
        env = self.env
        if role in WORKER_ROLES:
            # Each worker serves its health endpoints on a port of its own (kept on restart).
            if name not in self.ops_urls:
                self.ops_urls[name] = f"http://127.0.0.1:{self.new_port()}"
            env = {**env, "TIFLI_OPS_PORT": self.ops_urls[name].rsplit(":", 1)[1]}
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", role, "--no-migrate"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        """kill -9: no shutdown code runs, nothing is flushed or committed."""
        process = self.running.pop(name)
        process.kill()
        process.wait()

    def log_of(self, name: str) -> str:
        """What process ``name`` has written so far."""
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Sends ``sig`` and waits for the exit status (the process is killed if it outlasts
        ``timeout``)."""
        process = self.running.pop(name)
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def stop_all(self, timeout: float = 30) -> None:
        """Stops every running process with SIGTERM: signalled together, then each awaited
        (killed if it outlasts ``timeout``). One after another, each stop waited for the
        previous process to exit: about a second each, for nothing."""
        stopping = list(self.running.values())
        self.running.clear()
        for process in stopping:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in stopping:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_text(self) -> str:
        """Every process's log, for a failure message."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


@asynccontextmanager
async def production_stack(
    postgres_url: str,
    kafka_bootstrap: str,
    work: Path,
    *,
    replicas: dict[str, int] | None = None,
    settings: Mapping[str, str] | None = None,
    **overrides: str,
) -> AsyncIterator[tuple[Stack, Processes]]:
    """``replicas``: how many processes of a role (default one each), named role-1, role-2…
    ``settings`` and ``overrides``: environment variables for every process."""
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TIFLI_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}",  # one broker serves every test
        "TIFLI_DATA_KEY": Sealer.new_key(),
        **cap_signing_env(),
        "TIFLI_WEBHOOK_ALLOW_PRIVATE": "true",
        "TIFLI_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.05, 0.1, 0.2]",
        "TIFLI_DELIVERY_POLL_INTERVAL_S": "0.2",
        "TIFLI_HOST": "127.0.0.1",
        "TIFLI_PORT": str(port),
        "TIFLI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TIFLI_LOG_JSON": "true",
        "TIFLI_LOG_LEVEL": "DEBUG",
        **(settings or {}),
        **overrides,
    }
    env.pop("TIFLI_TEST_DATABASE_URL", None)
    database_url = env["TIFLI_DATABASE_URL"] = await migrated_database(postgres_url, env)
    keys = await create_keys(database_url)
    processes = Processes(env, work, ports={port})
    for role in ALL_ROLES:
        count = (replicas or {}).get(role, 1)
        for n in range(1, count + 1):
            processes.start(role, role if count == 1 else f"{role}-{n}")
    stack = Stack(settings=None, components=None, base_url=f"http://127.0.0.1:{port}", keys=keys)
    try:
        await wait_ready(stack, processes)
        yield stack, processes
    finally:
        # Off the event loop: the test's partner endpoints run on it, and a dispatcher
        # draining a POST to one of them waits for its answer.
        await asyncio.to_thread(processes.stop_all)


async def migrate(env: Mapping[str, str]) -> None:
    """``tifli db upgrade`` against the database that ``env`` names, as an operator runs it."""
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@asynccontextmanager
async def migrated_sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the database at ``url``, migrated to the latest schema first."""
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def embedded_stack_on_postgres() -> AsyncIterator[Stack]:
    """The embedded mode on a fresh PostgreSQL database (a server started unless one is
    named), with CAP signing and a data key: what the read-path benchmarks measure."""
    with postgres_server() as server, tempfile.TemporaryDirectory() as directory:
        url = await fresh_database(server.url)
        cap = cap_signing_env()
        settings = embedded_settings(
            Path(directory),
            database_url=url,
            cap_signing_key=cap["TIFLI_CAP_SIGNING_KEY"],
            cap_signing_certificate=cap["TIFLI_CAP_SIGNING_CERTIFICATE"],
            data_key=Sealer.new_key(),
        )
        stack, http_server = await start_stack(settings)
        try:
            yield stack
        finally:
            await http_server.__aexit__(None, None, None)


async def create_keys(database_url: str) -> dict[str, str]:
    """One API key per test persona (see KEY_SCOPES), created straight in the database."""
    engine = create_engine(database_url)
    keys = {}
    async with session_factory(engine)() as session, session.begin():
        for name, scopes in KEY_SCOPES.items():
            keys[name] = await create_api_key(session, name, scopes, datetime.now(UTC))
    await engine.dispose()
    return keys


async def wait_for_group(bootstrap: str, group: str, members: int, timeout: float = 60) -> None:
    """Until a consumer group is stable with ``members`` members (after its rebalance)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(timeout):
            while True:
                [response] = await admin.describe_consumer_groups([group])
                _error, _group, state, _type, _protocol, found, *_ = response.groups[0]
                if state == "Stable" and len(found) == members:
                    return
                await asyncio.sleep(0.2)  # group state has no change feed to await
    finally:
        await admin.close()


async def wait_ready(stack: Stack, processes: Processes, timeout: float = 120) -> None:
    """Until the API and every running worker answer /readyz with 200."""
    running = [url for name, url in processes.ops_urls.items() if name in processes.running]
    urls = [stack.base_url, *running]
    last = "no answer"
    async with httpx.AsyncClient(timeout=15) as client:
        try:
            async with asyncio.timeout(timeout):
                while urls:
                    for name, process in processes.running.items():
                        if process.poll() is not None:
                            raise RuntimeError(
                                f"{name} exited with {process.returncode}:\n"
                                f"{processes.log_text()[-5000:]}"
                            )
                    try:
                        answer = await client.get(f"{urls[0]}/readyz")
                        if answer.status_code == 200:
                            urls.pop(0)
                            continue
                        last = answer.text
                    except httpx.TransportError as exc:
                        last = repr(exc)
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"{urls[0]} not ready: {last}") from None
