"""Who may read /metrics: a scraper with the bearer token, from an allowed network, or both when
both are set. With neither set the metrics are off, and every refusal looks like a missing page."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def may_scrape(token: str, networks: Sequence[Network], authorization: str | None, address: str | None) -> bool:
    """Whether a request with this Authorization header, from this address, may read the metrics."""
    if not token and not networks:
        return False  # off
    if token and not _bearer_matches(token, authorization):
        return False
    return not networks or _address_in(address, networks)


def _bearer_matches(token: str, authorization: str | None) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # compare_digest takes as long whatever the first wrong character: the token cannot be guessed
    # one character at a time from the answer's timing.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _address_in(address: str | None, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    # A server listening on [::] sees IPv4 clients as ::ffff:10.1.2.3.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
