"""Who is asking: the client's IP address, for rate limits and the audit.

Behind no proxy it is `REMOTE_ADDR`. Behind `TRUSTED_PROXY_COUNT = N` proxies that each append the
address they received the request from to `X-Forwarded-For`, the client is the N-th address from
the right: the addresses left of it were written by the client itself and prove nothing. A header
that is shorter than N entries or not an IP address falls back to `REMOTE_ADDR` (a proxy that is
misconfigured must not let a client choose its own bucket).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    address = address.strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address (`None` when the server gives none, e.g. a Unix socket)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [part for part in forwarded.split(",") if part.strip()]
    if len(hops) < proxies:
        return remote
    return _valid(hops[-proxies]) or remote


def ratelimit_ip(request: HttpRequest) -> str:
    """django-ratelimit's `RATELIMIT_IP_META_KEY`: the same client as everywhere else."""
    return client_ip(request) or "0.0.0.0"  # noqa: S104  (a bucket name, not a bind address)


def client_key(ip: str | None) -> str:
    """The client as limits and counters see it: an IPv4 address, or the /64 of an IPv6 address
    (one subscriber usually holds a whole /64, so single addresses would be free to cycle)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)
