from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from dispatcher.address_guard import check_target, check_url, guarded_client
from services.testbed.partner import partner_endpoint
from services.testbed.stack import Stack, embedded_settings, start_stack


def test_urls_must_be_https_without_credentials() -> None:
    assert check_url("https://hooks.example.org/x", allow_private=False) is None
    assert check_url("http://hooks.example.org/x", allow_private=False) is not None
    assert check_url("https://user:pw@hooks.example.org/x", allow_private=False) is not None
    assert check_url("http://127.0.0.1:8080/x", allow_private=True) is None
    # A scheme refused is said as the setting allows: "https" alone where http is allowed
    # too would send the operator after the wrong fix.
    assert check_url("not a url", allow_private=False) == "webhook URLs must use https"
    assert check_url("not a url", allow_private=True) == "webhook URLs must use http or https"


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


# Every spelling of a non-public target, as a URL: each is refused at registration.
NON_PUBLIC_URLS = [
    "https://127.0.0.1/hook",
    "https://2130706433/hook",  # 127.0.0.1 in decimal
    "https://0x7f.1/hook",  # hex, two parts
    "https://127.1/hook",
    "https://0x7f000001/hook",
    "https://localhost/hook",
    "https://10.0.0.1/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.100.100.200/latest/meta-data/",
    "https://192.0.0.8/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:7f00:1]/hook",
    "https://[::127.0.0.1]/hook",
    "https://[2002:7f00:1::]/hook",
    "https://[2002:a9fe:a9fe::]/hook",  # 6to4 around the metadata address
    "https://[64:ff9b::7f00:1]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://[64:ff9b:1::808:808]/hook",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://[fe80::1]/hook",
]


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
async def test_non_public_targets_are_refused_before_any_request(url: str) -> None:
    reason = await check_target(url, allow_private=False)
    assert reason is not None and "non-public" in reason, reason
    # The same rule at connect time: the backend refuses the connection.
    async with guarded_client(timeout_s=5, allow_private=False) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://no-such-host.invalid/hook", "does not resolve"),
        ("https://xn--/hook", "not a valid URL"),
        ("https://[::1/hook", "not a valid URL"),
        ("http://8.8.8.8/hook", "https"),
        ("https://8.8.8.8:99999/hook", "port"),
        ("https://8.8.8.8:0/hook", "port"),
        ("https://8.8.8.8/hook", None),
        ("https://[2001:4860:4860::8888]/hook", None),
    ],
)
async def test_a_target_must_resolve(url: str, reason: str | None) -> None:
    found = await check_target(url, allow_private=False)
    assert (found is None) if reason is None else (found is not None and reason in found)


async def test_registration_refuses_non_public_targets_with_422(tmp_path: Path) -> None:
    stack, server = await start_stack(embedded_settings(tmp_path, webhook_allow_private=False))
    try:
        async with stack.client("admin") as admin:
            for url in [*NON_PUBLIC_URLS, "https://no-such-host.invalid/hook"]:
                answer = await admin.post(
                    "/v1/partners",
                    json={"name": "Metabook", "url": url, "verify_token": "a-token-123"},
                )
                assert answer.status_code == 422, (url, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert [e["field"] for e in answer.json()["errors"]] == ["url"], url
            assert (await admin.get("/v1/partners")).json()["items"] == []
    finally:
        await server.__aexit__(None, None, None)


async def test_an_unresolvable_host_is_422_even_when_private_targets_are_allowed(
    stack: Stack,
) -> None:
    async with stack.client("admin") as admin:
        answer = await admin.post(
            "/v1/partners",
            json={
                "name": "Metabook",
                "url": "http://no-such-host.invalid/hook",
                "verify_token": "a-token-123",
            },
        )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["url"]
    assert "does not resolve" in answer.json()["detail"]


@pytest.mark.parametrize("port", [0, 65536, 99999])
async def test_a_port_out_of_range_is_422_naming_url(stack: Stack, port: int) -> None:
    """httpx keeps any port number and the resolver wraps it (99999 is 34463): the socket
    refused it only when the handshake connected, and the registration answered 500."""
    async with stack.client("admin") as admin:
        answer = await admin.post(
            "/v1/partners",
            json={
                "name": "Metabook",
                "url": f"http://127.0.0.1:{port}/hook",
                "verify_token": "a-token-123",
            },
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == ["url"]
        assert (await admin.get("/v1/partners")).json()["items"] == []
