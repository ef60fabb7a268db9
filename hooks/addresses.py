"""Which webhook URLs Resync may call: http(s) to hosts that resolve to public addresses only.

A merchant's URL must not reach into Resync's own network (the metadata service, Redis, the
admin on localhost). The host is resolved and every address it gives is checked — at creation
and again before each attempt, since DNS answers change — and the attempt then connects to the
address checked (`pinning`), not to a second answer. `WEBHOOK_ALLOW_PRIVATE_URLS` lifts the
address check (not the scheme check) for local development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

SCHEMES = ("http", "https")


class RefusedURL(ValueError):
    """The URL is not one Resync will call; the message says why, for the merchant."""


def _not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _not_public(mapped)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (through `socket.getaddrinfo`, so tests can fake DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def check_url(url: str, *, allow_private: bool) -> list[str]:
    """Raise `RefusedURL` unless `url` is http(s) with a host whose addresses are all public;
    return those addresses (none when `allow_private`: nothing was resolved)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedURL(_("Enter a valid URL.")) from exc
    if parts.scheme not in SCHEMES:
        raise RefusedURL(_("Only http:// and https:// URLs can receive webhooks."))
    host = parts.hostname
    if not host:
        raise RefusedURL(_("Enter a valid URL."))
    if parts.username or parts.password:
        raise RefusedURL(_("A webhook URL cannot carry a user name or password."))
    if allow_private:
        return []
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedURL(_("The host name does not resolve.")) from exc
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if _not_public(address):
            raise RefusedURL(
                _("The URL points to a private, loopback or otherwise non-public address.")
            )
    return addresses
