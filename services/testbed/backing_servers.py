"""Real Kafka and PostgreSQL for tests and benchmarks: the project's own deploy scripts start
them (once per test session), unless KAFKA_BOOTSTRAP_SERVERS / TIFLI_TEST_DATABASE_URL point at
running ones. A server that cannot start fails the tests that need it; it never turns them into
skips. The scripts live in the checkout (``deploy/``), not in the installed package.

The servers are restartable on their data (for fault tests): ``PostgresServer.stop(mode)`` /
``.start()``, ``KafkaCluster.kill(node)`` (SIGKILL) / ``.stop()`` / ``.start()``. At the end of
the session the scripts' explicit ``wipe`` deletes the data, so test runs stay throwaway."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from services.testbed.loopback import free_port, free_ports

ROOT = Path(__file__).resolve().parents[2]  # the checkout
KAFKA_SCRIPT = ROOT / "deploy" / "kafka" / "kafka.sh"
POSTGRES_SCRIPT = ROOT / "deploy" / "postgres" / "postgres.sh"

StopMode = Literal["smart", "fast", "immediate"]


def _run(script: Path, args: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        ["bash", str(script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{script.name} {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


def _answers_status(script: Path, args: list[str], env: dict[str, str]) -> bool:
    """``<script> status …`` exits 0 when running, 3 when not (LSB)."""
    result = subprocess.run(
        ["bash", str(script), "status", *args],
        env={**os.environ, **env},
        capture_output=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


class NotManaged(RuntimeError):
    """The server was given from outside the suite: the tests cannot stop or restart it."""


# --- PostgreSQL ------------------------------------------------------------------------------


class PostgresServer(str):
    """A PostgreSQL server run by deploy/postgres/postgres.sh (or one given from outside,
    ``managed=False``). ``stop`` keeps the data; ``start`` brings the same cluster back.
    The object is its SQLAlchemy URL (a ``str``), so code that wants only the URL takes it."""

    url: str
    port: int | None
    managed: bool
    _env: dict[str, str]

    def __new__(
        cls,
        url: str,
        *,
        port: int | None = None,
        managed: bool = False,
        env: dict[str, str] | None = None,
    ) -> PostgresServer:
        self = super().__new__(cls, url)
        self.url, self.port, self.managed, self._env = str(url), port, managed, dict(env or {})
        return self

    def _script(self, *args: str, timeout: float = 120) -> str:
        if not self.managed:
            raise NotManaged(f"PostgreSQL at {self.url} runs outside the test session")
        return _run(POSTGRES_SCRIPT, list(args), self._env, timeout)

    def start(self) -> None:
        """Start (again) on the same data; returns once it accepts connections over TCP."""
        self._script("start", timeout=900)  # the very first start may install the server

    def stop(self, mode: StopMode = "fast") -> None:
        """``fast``: disconnect clients, roll back, checkpoint. ``immediate``: like a crash;
        the next start runs recovery."""
        self._script("stop", mode)

    def running(self) -> bool:
        """Whether the server is up now (one given from outside is taken to be)."""
        if not self.managed:
            return True
        return _answers_status(POSTGRES_SCRIPT, [], self._env)

    def wipe(self) -> None:
        """Deletes the data the scripts keep for this server."""
        self._script("wipe")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL for the session: the one TIFLI_TEST_DATABASE_URL names, else one started on a free
    port and wiped at the end."""
    given = os.environ.get("TIFLI_TEST_DATABASE_URL")
    if given:
        yield PostgresServer(given)
        return
    port = free_port()
    # The data directory is the script's own one per port (it must be reachable by the
    # unprivileged server user, which pytest's private temporary directories are not).
    server = PostgresServer(
        f"postgresql+asyncpg://tifli:tifli@127.0.0.1:{port}/tifli",
        port=port,
        managed=True,
        env={"PG_PORT": str(port)},
    )
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.wipe()


# --- Kafka -----------------------------------------------------------------------------------


class KafkaCluster(str):
    """Kafka run by deploy/kafka/kafka.sh: one node or a KRaft cluster of ``len(ports)``
    nodes with node ids 1..N (= broker ids), or one given from outside (``managed=False``).
    ``kill``/``stop`` keep the data; ``start`` brings the nodes back on it. The object is its
    bootstrap servers string (a ``str``), so code that wants only that takes it."""

    bootstrap: str
    ports: tuple[int, ...]
    managed: bool
    _env: dict[str, str]

    def __new__(
        cls,
        bootstrap: str,
        *,
        ports: tuple[int, ...] = (),
        managed: bool = False,
        env: dict[str, str] | None = None,
    ) -> KafkaCluster:
        self = super().__new__(cls, bootstrap)
        self.bootstrap, self.ports, self.managed = str(bootstrap), ports, managed
        self._env = dict(env or {})
        return self

    @property
    def nodes(self) -> tuple[int, ...]:
        """The node ids, 1..N."""
        return tuple(range(1, len(self.ports) + 1))

    def port(self, node: int) -> int:
        """The client port of ``node``."""
        return self.ports[node - 1]

    def _script(self, *args: str, timeout: float = 180) -> str:
        if not self.managed:
            raise NotManaged(f"Kafka at {self.bootstrap} runs outside the test session")
        return _run(KAFKA_SCRIPT, list(args), self._env, timeout)

    def start(self, *nodes: int) -> None:
        """Start the given nodes (default: every node not running) on their data; returns
        once each says it is started and its client port answers."""
        self._script("start", *map(str, nodes), timeout=900)  # first run: fetch the jars

    def stop(self, *nodes: int) -> None:
        """Controlled shutdown (SIGTERM) of the given nodes, default all."""
        self._script("stop", *map(str, nodes))

    def kill(self, *nodes: int) -> None:
        """SIGKILL the given nodes (default all), as a crash would; data stays."""
        self._script("kill", *map(str, nodes or self.nodes))

    def running(self, node: int) -> bool:
        """Whether the server is up now (one given from outside is taken to be)."""
        if not self.managed:
            return True
        return _answers_status(KAFKA_SCRIPT, [str(node)], self._env)

    def wipe(self) -> None:
        """Deletes the data the scripts keep for this server."""
        self._script("wipe")


@contextmanager
def kafka_broker(
    work_dir: Path, brokers: int = 1, *, broker_session_timeout_ms: int | None = None
) -> Iterator[KafkaCluster]:
    """One broker (default) or a ``brokers``-node cluster on free loopback ports.
    ``broker_session_timeout_ms``: how long the controller waits for a silent broker before
    fencing it (the script's default, Kafka's 9 s, unless given)."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given and brokers == 1:
        yield KafkaCluster(given)
        return
    controllers = 1 if brokers < 3 else 3
    ports = free_ports(brokers + controllers)
    client, controller = ports[:brokers], ports[brokers:]
    cluster = KafkaCluster(
        ",".join(f"127.0.0.1:{p}" for p in client),
        ports=tuple(client),
        managed=True,
        env={
            "KAFKA_BROKERS": str(brokers),
            "KAFKA_CONTROLLERS": str(controllers),
            "KAFKA_PORTS": ",".join(map(str, client)),
            "KAFKA_CONTROLLER_PORTS": ",".join(map(str, controller)),
            "KAFKA_WORK_DIR": str(work_dir),
            **(
                {"KAFKA_BROKER_SESSION_TIMEOUT_MS": str(broker_session_timeout_ms)}
                if broker_session_timeout_ms is not None
                else {}
            ),
        },
    )
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            cluster.wipe()
