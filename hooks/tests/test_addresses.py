"""Which URLs Resync calls: http(s) to public addresses only (IPv4, IPv6, IPv4-mapped)."""

from __future__ import annotations

import socket

import pytest

from hooks.addresses import RefusedURL, check_url


@pytest.fixture
def dns(monkeypatch):
    """Fake answers by host name; anything else does not resolve."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror("no such host")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.1.2.3",  # private
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",  # link-local (cloud metadata)
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104  (unspecified)
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(dns, address):
    dns["hooks.example.com"] = [address]
    with pytest.raises(RefusedURL):
        check_url("https://hooks.example.com/in", allow_private=False)


def test_one_bad_address_among_good_ones_is_enough_to_refuse(dns):
    dns["hooks.example.com"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(RefusedURL):
        check_url("https://hooks.example.com/in", allow_private=False)


def test_public_addresses_pass(dns):
    dns["hooks.example.com"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    check_url("https://hooks.example.com/in", allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/",
        "file:///etc/passwd",
        "gopher://hooks.example.com/",
        "https:///nohost",
        "https://user:pw@hooks.example.com/",
        "http://[::1/",
    ],
)
def test_other_schemes_and_broken_urls_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(RefusedURL):
        check_url(url, allow_private=True)


def test_literal_addresses_and_unresolvable_hosts(dns):
    with pytest.raises(RefusedURL):
        check_url("http://nowhere.invalid/", allow_private=False)
    check_url("http://127.0.0.1:8000/", allow_private=True)  # local development
