"""The compose file parses, and every command it runs exists in the CLI with valid arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli import build_parser
from shared.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _tifli_services() -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in _compose()["services"].items()
        if spec.get("image", "").startswith("tifli")
    }


def test_every_service_role_runs_from_the_tifli_image() -> None:
    services = _tifli_services()
    commands = {" ".join(spec["command"]) for spec in services.values()}
    for role in ("intake-api", "relay", "alert-engine", "dispatcher"):
        assert f"run {role} --no-migrate" in commands
    assert "db upgrade" in commands


@pytest.mark.parametrize("name", sorted(_tifli_services()))
def test_compose_commands_parse_with_the_cli(name: str) -> None:
    command = _tifli_services()[name]["command"]
    build_parser().parse_args(command)  # argparse exits (SystemExit) on anything unknown


def test_compose_settings_are_real_settings() -> None:
    known = {f"TIFLI_{field.upper()}" for field in Settings.model_fields}
    known |= {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}
    for spec in _tifli_services().values():
        for variable in spec["environment"]:
            assert variable in known, variable


def test_dockerfile_entrypoint_is_the_cli() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["tifli"]' in dockerfile
    for package in ("shared", "intake_api", "alert_engine", "dispatcher", "services"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_the_image_s_user_can_load_the_compiled_zone_code() -> None:
    # The code is root's and read-only to the service's user: numba must find its cache in a
    # folder that user owns, compiled at build time (else every process compiles at start).
    build, final = (DEPLOY / "Dockerfile").read_text().split("\nFROM ")[1:]
    cache = "NUMBA_CACHE_DIR=/var/cache/tifli/numba"
    assert cache in build and "load_compiled()" in build.split(cache, 1)[1]
    assert cache in final
    assert "COPY --from=build --chown=tifli /var/cache/tifli /var/cache/tifli" in final
    assert final.index("--chown=tifli /var/cache/tifli") < final.index("USER tifli")


def test_every_worker_is_health_checked_and_given_time_to_drain() -> None:
    """A worker's readiness (its loops, the database, the broker) is what compose checks, on
    the port the worker serves it on; a stop leaves a dispatcher time to finish a POST."""
    services = _tifli_services()
    timeout_s = Settings().webhook_timeout_s
    for role in ("relay", "alert-engine", "dispatcher"):
        spec = services[role]
        port = spec["environment"]["TIFLI_OPS_PORT"]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"]), role
        assert spec["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://"), role
        assert int(spec["stop_grace_period"].removesuffix("s")) > timeout_s + 5, role
