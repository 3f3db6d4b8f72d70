"""The one rule for public addresses: what a webhook may reach, and what a photo partners
fetch may name."""

from __future__ import annotations

import pytest

from shared.public_addresses import is_public


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
        ("2002:a00:1::", False),  # 6to4 around 10.0.0.1
        ("2002:808:808::", True),  # 6to4 around 8.8.8.8
        ("64:ff9b:1::808:808", False),  # local-use NAT64 (RFC 8215), whatever it embeds
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::8.8.8.8", False),  # IPv4-compatible: deprecated, never a webhook
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("192.0.0.8", False),  # IETF protocol assignments, all of 192.0.0.0/24
        ("192.0.0.9", False),
        ("192.0.0.170", False),
        ("100.100.100.200", False),  # Alibaba Cloud's metadata service
        ("fd00:ec2::254", False),  # AWS's IPv6 metadata service
        ("fe80::1%eth0", False),
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1
        ("fec0::1", False),  # site-local
        ("3fff::1", False),  # documentation
        ("0.0.0.0", False),
        ("198.18.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
        ("1.1.1.1", True),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public
