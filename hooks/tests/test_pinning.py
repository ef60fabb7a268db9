"""DNS rebinding: a delivery connects to the address its check approved, never to a second DNS
answer (hooks/pinning.py); the host name still travels in the Host header."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import trustme
from django.utils import timezone
from urllib3.util import connection

from hooks import services
from hooks.models import DeliveryState, WebhookAttempt, WebhookDelivery
from hooks.pinning import pinned_session
from shipments.carriers.statuses import Status
from shipments.tests.fixtures import make_shipment, make_store

from .helpers import news

T0 = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
PUBLIC = "93.184.216.34"


def _port(receiver) -> int:
    return int(receiver.url.split(":")[2].split("/")[0])


@pytest.fixture
def dns(monkeypatch):
    """Fake answers for *.merchant.test (a list: one answer per question, the last repeats);
    every other name resolves as usual. `dns.asked` counts the questions."""
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".merchant.test"):
            asked.append(host)
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    getaddrinfo.answers, getaddrinfo.asked = answers, asked  # type: ignore[attr-defined]
    return getaddrinfo


def test_a_pinned_session_reaches_the_address_and_names_the_host(receiver, dns):
    dns.answers["hooks.merchant.test"] = ["203.0.113.9"]  # would be refused: never asked
    url = f"http://hooks.merchant.test:{_port(receiver)}/hook"
    with pinned_session("127.0.0.1") as client:
        response = client.post(url, data=b"{}", timeout=5)
    assert response.status_code == 200
    (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.merchant.test:{_port(receiver)}"
    assert dns.asked == []


@pytest.mark.django_db
def test_a_host_that_rebinds_between_the_check_and_the_connection_is_not_reached(
    receiver, dns, monkeypatch, settings, published
):
    """The check hears a public address; asked again, the name says 127.0.0.1 (where the
    receiver stands in for Resync's own services). The POST goes to the public address."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    store = make_store()
    dns.answers["hooks.merchant.test"] = [PUBLIC]
    endpoint = services.webhook_endpoint_create(
        store=store,
        url=f"http://hooks.merchant.test:{_port(receiver)}/hook",
        events=["shipment.updated"],
    )
    dns.answers["hooks.merchant.test"] = [PUBLIC, "127.0.0.1"]  # first the check, then rebound
    connected: list[tuple[str, int]] = []
    real_connect = connection.create_connection

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        if address[0] == PUBLIC:  # no network here: the public host refuses
            raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(connection, "create_connection", create_connection)
    news(make_shipment(store), Status.IN_TRANSIT, "Departed", now=T0)
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert services.webhook_delivery_send(delivery_id=delivery.pk, now=T0)
    assert receiver.requests == []
    assert connected == [(PUBLIC, _port(receiver))]
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None
    assert attempt.error.startswith("connection failed")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING  # tried again later


@pytest.fixture
def tls_receiver():
    """An HTTPS receiver on 127.0.0.1 whose certificate names hooks.merchant.test only, signed
    by a throwaway CA (trustme); yields (port, CA bundle path, paths seen)."""
    ca = trustme.CA()
    cert = ca.issue_cert("hooks.merchant.test")
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with tempfile.NamedTemporaryFile(suffix=".pem") as bundle:
        ca.cert_pem.write_to_path(bundle.name)
        yield server.server_address[1], bundle.name, seen
    server.shutdown()
    server.server_close()


def test_over_tls_the_certificate_is_checked_against_the_host_name(tls_receiver, dns):
    port, bundle, seen = tls_receiver
    dns.answers["hooks.merchant.test"] = ["203.0.113.9"]  # never asked
    with pinned_session("127.0.0.1") as client:
        response = client.post(f"https://hooks.merchant.test:{port}/hook", verify=bundle)
        assert response.status_code == 204
        # The same address under a name the certificate does not carry: refused.
        with pytest.raises(requests.exceptions.SSLError):
            client.post(f"https://other.merchant.test:{port}/hook", verify=bundle)
    assert seen == [f"hooks.merchant.test:{port}"]
    assert dns.asked == []
