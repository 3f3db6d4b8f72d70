"""Settings that derive from others."""

from __future__ import annotations

from shared.settings import Settings


def test_links_follow_the_listening_address_unless_a_public_url_is_given() -> None:
    unset = Settings(host="127.0.0.1", port=8101, public_base_url=None)
    assert unset.base_url == "http://127.0.0.1:8101"
    given = Settings(host="0.0.0.0", port=8101, public_base_url="https://tifli.example/")
    assert given.base_url == "https://tifli.example"
