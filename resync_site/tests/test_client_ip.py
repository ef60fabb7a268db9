"""The client's IP address behind zero or more proxies (SPEC §10: `TRUSTED_PROXY_COUNT`)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from resync_site.client_ip import client_ip

factory = RequestFactory()


def _request(remote: str = "10.0.0.9", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/track/", **extra)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_proxies_a_forwarded_header_is_ignored():
    # A client that writes its own X-Forwarded-For does not choose its rate-limit bucket.
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.23", "198.51.100.23"),
        # A spoofed entry on the left is what the client wrote: skipped.
        (1, "6.6.6.6, 198.51.100.23", "198.51.100.23"),
        (2, "6.6.6.6, 198.51.100.23, 10.1.2.3", "198.51.100.23"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Fewer hops than proxies, or garbage: the proxy is misconfigured, not the client's pick.
        (2, "198.51.100.23", "10.0.0.9"),
        (1, "not-an-ip", "10.0.0.9"),
        (1, "", "10.0.0.9"),
    ],
)
def test_behind_n_proxies_the_nth_address_from_the_right(proxies, forwarded, expected):
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(_request("10.0.0.9", forwarded)) == expected
