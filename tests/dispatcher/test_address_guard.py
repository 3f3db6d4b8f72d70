from __future__ import annotations

import httpx
import pytest

from dispatcher.address_guard import check_url, guarded_client, is_public
from tests.partner_server import partner_endpoint


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("2001:4860:4860::8888", True),
        ("fd00::1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 to 127.0.0.1
        ("64:ff9b::808:808", True),  # NAT64 to 8.8.8.8
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_urls_must_be_https_without_credentials() -> None:
    assert check_url("https://hooks.example.org/x", allow_private=False) is None
    assert check_url("http://hooks.example.org/x", allow_private=False) is not None
    assert check_url("https://user:pw@hooks.example.org/x", allow_private=False) is not None
    assert check_url("http://127.0.0.1:8080/x", allow_private=True) is None


async def test_loopback_is_refused_at_connect_time_unless_allowed() -> None:
    async with partner_endpoint() as partner:
        async with guarded_client(timeout_s=5, allow_private=False) as client:
            with pytest.raises(httpx.ConnectError, match="non-public"):
                await client.post(partner.url, content=b"{}")
            # A name that resolves to loopback is caught the same way (DNS rebinding).
            with pytest.raises(httpx.ConnectError, match="non-public"):
                await client.post(partner.url.replace("127.0.0.1", "localhost"), content=b"{}")
        assert partner.received == []
        async with guarded_client(timeout_s=5, allow_private=True) as client:
            assert (await client.post(partner.url, content=b"{}")).status_code == 200
