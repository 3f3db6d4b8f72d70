"""Settings that derive from others."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings, unread_variables


def test_links_follow_the_listening_address_unless_a_public_url_is_given() -> None:
    unset = Settings(host="127.0.0.1", port=8101, public_base_url=None)
    assert unset.base_url == "http://127.0.0.1:8101"
    given = Settings(host="0.0.0.0", port=8101, public_base_url="https://tifli.example/")
    assert given.base_url == "https://tifli.example"


def test_the_service_area_is_a_box_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIFLI_SERVICE_AREA", "[-10, 20, 0, 40]")
    assert Settings().service_area == (-10.0, 20.0, 0.0, 40.0)
    for box in ("[0, 20, -10, 40]", "[-10, 40, 0, 20]", "[-200, 20, 0, 40]", "[1, 2, 3]"):
        monkeypatch.setenv("TIFLI_SERVICE_AREA", box)
        with pytest.raises(ValidationError):
            Settings()


def test_a_misspelt_setting_is_named_with_the_one_it_likely_means() -> None:
    """Ignored without a word, a misspelt variable left its setting at the default (a
    missing ``_S``: the webhook time-out stayed 10 s). The suite's and the compose file's
    own variables, and everything not ``TIFLI_``, are not settings and not named."""
    environ = {
        "TIFLI_WEBHOOK_TIMEOUT": "3",
        "TIFLI_OPS_PROT": "9101",
        "TIFLI_NOTHING_LIKE_IT": "1",
        "TIFLI_WEBHOOK_TIMEOUT_S": "3",
        "TIFLI_TEST_DATABASE_URL": "postgresql+asyncpg://localhost/x",
        "TIFLI_COMPOSE_KAFKA_VOTERS": "1@kafka:9093",
        "DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "HOME": "/home/someone",
    }
    assert unread_variables(environ) == [
        "TIFLI_NOTHING_LIKE_IT",
        "TIFLI_OPS_PROT (did you mean TIFLI_OPS_PORT?)",
        "TIFLI_WEBHOOK_TIMEOUT (did you mean TIFLI_WEBHOOK_TIMEOUT_S?)",
    ]


def test_a_delivery_lease_outlasts_a_webhook_post() -> None:
    """Shorter, another dispatcher would take a delivery over while its POST still waits for
    the partner, and send it again meanwhile."""
    with pytest.raises(ValidationError, match="TIFLI_DELIVERY_LEASE_S"):
        Settings(webhook_timeout_s=10, delivery_lease_s=8)
    assert Settings(webhook_timeout_s=10, delivery_lease_s=12).delivery_lease_s == 12


def test_in_sync_replicas_are_at_most_the_replicas() -> None:
    """More would make Kafka refuse every write to the topics; a service said it in a
    traceback once it was building its bus."""
    with pytest.raises(ValidationError, match="TIFLI_KAFKA_MIN_INSYNC_REPLICAS"):
        Settings(kafka_replication_factor=1, kafka_min_insync_replicas=2)
    settings = Settings(kafka_replication_factor=3, kafka_min_insync_replicas=2)
    assert settings.kafka_min_insync_replicas == 2
