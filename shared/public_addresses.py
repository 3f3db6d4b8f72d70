"""Which addresses are public: the one rule for what may be reached on the strength of an
alert — a partner's webhook the dispatcher connects to, a photo partners will fetch.

Pure, no I/O: names are resolved by the callers that connect (the dispatcher, at connect
time, against DNS rebinding).
"""

from __future__ import annotations

import ipaddress

# What is never public, beyond what ``ipaddress`` calls non-global (whose tables vary
# with the Python version): the IANA special-purpose ranges that Python 3.11 misses, and the
# IPv6 forms whose traffic ends at an IPv4 address we cannot judge here.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT; also Alibaba Cloud's metadata, 100.100.100.200
        "192.0.0.0/24",  # IETF protocol assignments, anycast relays included
        "198.18.0.0/15",
        "240.0.0.0/4",
        "::/96",  # IPv4-compatible (deprecated): [::127.0.0.1] reaches loopback on some stacks
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765): a translator delivers to the IPv4 one
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): translates into private networks
        "2001::/32",  # Teredo: tunnels to an address inside it (obfuscated)
        "2001:db8::/32",
        "3fff::/20",  # documentation (RFC 9637), beside 2001:db8::/32
        "fc00::/7",  # unique local; AWS's IPv6 metadata service is fd00:ec2::254
        "fe80::/10",
        "fec0::/10",  # site-local (deprecated, RFC 3879): still routed inside some networks
    )
)
# The well-known NAT64 prefix (RFC 6052) reaches the IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form delivers to, for the forms whose target we can judge."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether ``address`` is public (an IP literal, IPv6 zone id allowed).

    The one rule, used at registration and at connect time: an IPv6 form that carries an
    IPv4 address is judged by that address; then the address must be globally reachable
    unicast and in none of the special-purpose ranges above.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if ip.is_multicast or not ip.is_global:
        return False
    return not any(ip in network for network in _NEVER_PUBLIC if network.version == ip.version)
