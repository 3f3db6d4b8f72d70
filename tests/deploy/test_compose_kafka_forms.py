"""deploy/docker-compose.yml in both Kafka forms: one broker (the default) and three
(`--env-file deploy/kafka/compose-cluster.env`). Compose is not run here; its variable
substitution and profiles are applied to the parsed file, and each form must describe one
consistent cluster that the Tifli services are pointed at."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CLUSTER_ENV = DEPLOY / "kafka" / "compose-cluster.env"
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {name.strip(): value.strip() for name, value in pairs}


def _substitute(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, env) for v in node]
    if isinstance(node, str):
        return _VARIABLE.sub(lambda m: env.get(m[1], m[2] or ""), node)
    return node


def _form(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The services Compose would run with ``env`` (profiles from COMPOSE_PROFILES)."""
    env = {"TIFLI_DATA_KEY": "k", **env}
    compose = _substitute(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()), env)
    profiles = set(filter(None, env.get("COMPOSE_PROFILES", "").split(",")))
    return {
        name: spec
        for name, spec in compose["services"].items()
        if not spec.get("profiles") or profiles & set(spec["profiles"])
    }


@pytest.mark.parametrize(
    ("env", "brokers"), [({}, 1), (_env_file(CLUSTER_ENV), 3)], ids=["single", "cluster"]
)
def test_each_form_is_one_consistent_cluster(env: dict[str, str], brokers: int) -> None:
    services = _form(env)
    kafka = {n: s for n, s in services.items() if s["image"].startswith("apache/kafka")}
    assert len(kafka) == brokers
    nodes = {int(s["environment"]["KAFKA_NODE_ID"]): n for n, s in kafka.items()}
    assert sorted(nodes) == list(range(1, brokers + 1))
    # Every node: the same cluster id and voter set, listing every node's controller.
    assert len({s["environment"]["CLUSTER_ID"] for s in kafka.values()}) == 1
    voters = {s["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for s in kafka.values()}
    assert voters == {",".join(f"{i}@{nodes[i]}:9093" for i in sorted(nodes))}
    advertised = {s["environment"]["KAFKA_ADVERTISED_LISTENERS"] for s in kafka.values()}
    assert advertised == {f"PLAINTEXT://{name}:9092" for name in kafka}
    assert len({str(s["volumes"]) for s in kafka.values()}) == brokers  # a volume each

    tifli = {n: s for n, s in services.items() if s["image"].startswith("tifli")}
    for name, spec in tifli.items():
        environment = spec["environment"]
        bootstrap = set(environment["KAFKA_BOOTSTRAP_SERVERS"].split(","))
        assert bootstrap == {f"{n}:9092" for n in kafka}, name
        replication = int(environment["TIFLI_KAFKA_REPLICATION_FACTOR"])
        min_isr = int(environment["TIFLI_KAFKA_MIN_INSYNC_REPLICAS"])
        assert replication == brokers and 1 <= min_isr <= replication
        if brokers == 3:  # one broker may fail with writes going on and nothing lost
            assert min_isr == replication - 1
        if name != "migrate":  # the migration needs only the database
            assert set(kafka) <= set(spec["depends_on"]), name
    for spec in kafka.values():
        environment = spec["environment"]
        assert int(environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == brokers
        assert environment["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"


def test_the_optional_brokers_are_not_required_dependencies() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    depends = compose["services"]["intake-api"]["depends_on"]
    for name, spec in compose["services"].items():
        if spec.get("profiles"):
            assert depends[name]["required"] is False, name
