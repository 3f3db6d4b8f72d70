"""Settings that derive from others."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings


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
