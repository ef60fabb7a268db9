"""`/track/<token>/`: what a shopper sees, what never leaks, and the shopper Resync."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shipments import messages, services
from shipments.carriers import catalogue
from shipments.models import ResyncJob, ResyncRequest, Shipment, Store
from shipments.tests.fixtures import make_shipment, make_store, make_user

from .conftest import add_event, make_order_shipment

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' https: data:; frame-ancestors 'none'"
)


def _page(shipment: Shipment) -> str:
    return reverse("tracking:page", args=[shipment.public_token])


def _resync_url(shipment: Shipment) -> str:
    return reverse("tracking:resync", args=[shipment.public_token])


def _ints(value: Any, path: str = "") -> list[str]:
    """Paths of every integer in a JSON document."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _ints(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _ints(v, f"{path}[{i}]")]
    return []


# --- The page -------------------------------------------------------------------------------------


def test_page_shows_branding_status_details_and_timeline(client, tracked):
    response = client.get(_page(tracked))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Outdoor" in html
    assert '<img class="brand-logo" src="https://cdn.example.com/acme.png"' in html
    # Accent colour: a stylesheet of its own (the CSP allows no inline style).
    theme_url = reverse("tracking:theme", args=[tracked.public_token])
    assert f'<link rel="stylesheet" href="{theme_url}">' in html
    assert "style=" not in html
    assert "<script>" not in html
    # Stepper, current step marked.
    for label in ("Ordered", "Shipped", "In transit", "Out for delivery", "Delivered"):
        assert f'<span class="step-label">{label}</span>' in html
    assert re.search(r'class="step step--current"\s+aria-current="step"', html)
    # Details: carrier, tracking number linked to the carrier's page, ETA, last updated.
    assert "DHL" in html
    carrier_url = catalogue.public_tracking_url("dhl", tracked.tracking_number)
    assert f'href="{carrier_url.replace("&", "&amp;")}"' in html
    assert "Estimated delivery" in html
    assert "7\xa0minutes ago" in html or "7 minutes ago" in html
    # Timeline in the store's time zone, with the zone named.
    assert "Times are shown in Europe/Berlin." in html
    assert "Departed hub" in html
    assert "Label created" in html
    assert html.index("Departed hub") < html.index("Label created")  # newest first
    assert "+01:00" in html or "+02:00" in html  # <time datetime> carries Berlin's offset
    # Resync control, top right, with the shared cooldown's remaining time (none yet).
    assert f'action="{_resync_url(tracked)}" data-resync data-retry-after="0"' in html
    assert 'data-resync-status role="status" aria-live="polite"' in html
    assert "js/resync.js" in html
    assert "js/tracking.js" in html


def test_theme_stylesheet_carries_a_validated_accent(client, tracked):
    url = reverse("tracking:theme", args=[tracked.public_token])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert "--accent: #0a7d55;" in response.content.decode()
    # A colour that bypassed the model's validation never reaches the stylesheet.
    Store.objects.filter(pk=tracked.store_id).update(accent_color="red;}*{")
    css = client.get(url).content.decode()
    assert "--accent: #1f5fbf;" in css
    assert "red" not in css


def test_security_headers_and_noindex(client, tracked):
    response = client.get(_page(tracked))
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in response.content.decode()
    for url in (reverse("tracking:lookup"), "/track/not-a-real-token-at-all/", "/track/a/b/c"):
        assert client.get(url)["Content-Security-Policy"] == CSP


def test_a_store_may_embed_the_page_when_frame_ancestors_are_configured(client, tracked, settings):
    settings.TRACK_FRAME_ANCESTORS = ["https://shop.example.com", "bad; script-src *"]
    response = client.get(_page(tracked))
    assert response["Content-Security-Policy"].endswith("frame-ancestors https://shop.example.com")
    assert "X-Frame-Options" not in response


@pytest.mark.parametrize(
    ("status", "alert"),
    [
        ("exception", "There is a problem with this shipment"),
        ("failed_attempt", "tried to deliver the parcel"),
        ("available_for_pickup", "waiting for you at a pickup point"),
    ],
)
def test_special_statuses_are_shown_distinctly(client, tracked, status, alert):
    Shipment.objects.filter(pk=tracked.pk).update(status=status)
    html = client.get(_page(tracked)).content.decode()
    assert alert in html
    assert f"step--alert step--{status}" in html
    assert f"notice--{status}" in html


def test_delivered_marks_the_last_step(client, tracked):
    Shipment.objects.filter(pk=tracked.pk).update(status="delivered", last_event_at=timezone.now())
    html = client.get(_page(tracked)).content.decode()
    assert re.search(
        r'class="step step--current"\s+aria-current="step">\s*<span class="step-marker" '
        r'aria-hidden="true"></span>\s*<span class="step-label">Delivered</span>',
        html,
    )


def test_other_shipments_of_the_order_link_their_own_tokens(client, tracked):
    second = make_shipment(tracked.store, order=tracked.order, carrier="ups")
    unrelated = make_order_shipment(tracked.store, order_number="#2002", email="x@example.com")
    html = client.get(_page(tracked)).content.decode()
    assert 'aria-label="Shipments in this order"' in html
    assert f'href="{_page(second)}"' in html
    assert f'href="{_page(tracked)}" aria-current="page"' in html
    assert unrelated.public_token not in html
    assert "#2002" not in html


def test_timeline_fragment_for_the_in_place_refresh(client, tracked):
    response = client.get(_page(tracked), HTTP_X_FRAGMENT="timeline")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div class="live" data-timeline>')
    assert "Departed hub" in html
    assert "<html" not in html
    assert "X-Fragment" in response["Vary"]


# --- Only shopper-safe data -----------------------------------------------------------------------


def test_json_is_the_shopper_safe_subset(client, tracked):
    response = client.get(_page(tracked), **JSON)
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {
        "store",
        "order_number",
        "carrier",
        "tracking_number",
        "tracking_url",
        "carrier_url",
        "status",
        "sub_status",
        "estimated_delivery",
        "last_synced_at",
        "retry_after",
        "events",
        "shipments",
    }
    assert data["store"] == {"name": "Acme Outdoor"}
    assert data["order_number"] == "#1001"
    assert data["carrier"] == "dhl"
    assert data["status"] == "in_transit"
    assert data["tracking_url"] == "http://testserver" + _page(tracked)
    assert data["carrier_url"].startswith("https://")
    assert [e["description"] for e in data["events"]] == ["Departed hub", "Label created"]
    assert set(data["events"][0]) == {"occurred_at", "status", "description", "location"}
    occurred = dt.datetime.fromisoformat(data["events"][0]["occurred_at"])
    assert occurred.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
    assert data["shipments"] == [
        {
            "tracking_number": tracked.tracking_number,
            "carrier": "dhl",
            "status": "in_transit",
            "tracking_url": "http://testserver" + _page(tracked),
        }
    ]
    # No internal ids anywhere: the only integer is the cooldown's seconds.
    assert _ints(data) == [".retry_after"]
    # The e-mail is masked, never given in full.
    assert data["customer_email"] == "J***@example.com"
    assert "Jane.Doe" not in response.content.decode()


def test_page_masks_the_email_and_shows_no_internals(client, tracked):
    Shipment.objects.filter(pk=tracked.pk).update(
        last_sync_error="carrier said: internal 1234", carrier_status_code="X-INTERNAL-9"
    )
    html = client.get(_page(tracked)).content.decode()
    assert "J***@example.com" in html
    assert "Jane.Doe" not in html
    assert "internal 1234" not in html
    assert "X-INTERNAL-9" not in html
    assert f"/app/shipments/{tracked.pk}/" not in html


def test_a_token_never_reveals_another_stores_data(client, tracked):
    other_store = make_store(name="Globex", slug="globex", display_name="Globex Shop")
    other = make_order_shipment(other_store, order_number="#1001", email="bob@example.com")
    add_event(other, hours_ago=1, status="out_for_delivery", description="Globex courier")
    mine = client.get(_page(tracked)).content.decode()
    theirs = client.get(_page(other)).content.decode()
    assert "Globex" not in mine
    assert "Globex courier" not in mine
    assert "Acme" not in theirs
    assert "Departed hub" not in theirs
    assert other.public_token not in mine
    # A job of one shipment cannot be read through another shipment's token.
    job = ResyncJob.objects.create(shipment=other, source="shopper")
    url = reverse("tracking:resync_status", args=[tracked.public_token, job.pk])
    assert client.get(url, **JSON).status_code == 404


@pytest.mark.parametrize("token", ["nope", "A" * 32, "%3Cscript%3E", "x" * 200, "../../etc"])
def test_wrong_or_tampered_tokens_are_404_never_403(client, tracked, token):
    for path in (f"/track/{token}/", f"/track/{token}/theme.css"):
        html = client.get(path)
        assert html.status_code == 404
        assert "Tracking page not found" in html.content.decode()
        assert client.get(path, **JSON).status_code == 404
    tampered = tracked.public_token[:-1] + ("A" if tracked.public_token[-1] != "A" else "B")
    assert client.get(f"/track/{tampered}/").status_code == 404
    assert client.post(f"/track/{tampered}/resync/", **JSON).status_code == 404
    job = ResyncJob.objects.create(shipment=tracked, source="shopper")
    assert client.get(f"/track/{tampered}/resync/{job.pk}/", **JSON).status_code == 404


# --- Escaping -------------------------------------------------------------------------------------


def test_carrier_text_and_links_render_inert(client, tracked, monkeypatch):
    add_event(
        tracked,
        hours_ago=1,
        status="exception",
        description='<script>alert("x")</script><img src=x onerror=alert(1)>',
        location='"><svg onload=alert(2)>',
    )
    Shipment.objects.filter(pk=tracked.pk).update(
        carrier_status_text="<b onmouseover=alert(3)>Held</b>",
        tracking_number='JD0"><script>1</script>',
    )
    Store.objects.filter(pk=tracked.store_id).update(logo_url="javascript:alert(4)")
    monkeypatch.setattr(
        catalogue, "public_tracking_url", lambda code, number: "javascript:alert(5)"
    )
    response = client.get(_page(tracked))
    html = response.content.decode()
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "<svg" not in html
    assert "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert "brand-logo" not in html
    assert 'target="_blank"' not in html  # no carrier link at all
    data = client.get(_page(tracked), **JSON).json()
    assert data["carrier_url"] is None


def test_only_http_links_for_the_carrier_page(client, tracked, monkeypatch, settings):
    settings.TRACKING_PAGE_CACHE_SECONDS = 0  # the code changes between the two views
    monkeypatch.setattr(catalogue, "public_tracking_url", lambda code, number: "data:text/html,hi")
    assert client.get(_page(tracked), **JSON).json()["carrier_url"] is None
    monkeypatch.setattr(
        catalogue, "public_tracking_url", lambda code, number: f"http://carrier.test/t/{number}"
    )
    assert client.get(_page(tracked), **JSON).json()["carrier_url"].startswith("http://carrier")


# --- Shopper resync -------------------------------------------------------------------------------


def test_resync_json_202_then_429_with_retry_after(
    client, tracked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_resync_url(tracked), **JSON)
    assert response.status_code == 202
    body = response.json()
    job = ResyncJob.objects.get()
    assert body == {
        "job": str(job.pk),
        "state": "queued",
        "status_url": reverse("tracking:resync_status", args=[tracked.public_token, job.pk]),
        "retry_after": 300,
    }
    assert job.source == "shopper"
    assert ResyncRequest.objects.get(accepted=True).ip_address == "127.0.0.1"

    again = client.post(_resync_url(tracked), **JSON)
    assert again.status_code == 429
    wait = int(again["Retry-After"])
    assert 295 <= wait <= 300
    assert again.json()["retry_after"] == wait
    assert re.fullmatch(r"You can resync again in \d min \d+ s\.", again.json()["error"])

    status = client.get(body["status_url"], **JSON)
    assert status.status_code == 200
    assert status.json() == {"state": "queued", "message": "", "changed": None}
    # After a reload the button still counts down, and is disabled.
    html = client.get(_page(tracked)).content.decode()
    assert re.search(r'data-retry-after="(29\d|300)"', html)
    assert re.search(
        r"<button[^>]*disabled aria-disabled=\"true\">Resync — available in \d:\d\d", html
    )


def test_status_url_reports_the_success_sentence(client, tracked):
    job = ResyncJob.objects.create(
        shipment=tracked,
        source="shopper",
        state="succeeded",
        message=str(messages.SUCCESS_MESSAGE),
        changed=True,
    )
    url = reverse("tracking:resync_status", args=[tracked.public_token, job.pk])
    assert client.get(url, **JSON).json() == {
        "state": "succeeded",
        "message": str(messages.SUCCESS_MESSAGE),
        "changed": True,
    }
    # The page a shopper reads speaks of the page they are on, not the merchant's sentence.
    html = client.get(url).content.decode()
    assert "Updated: this page now shows the carrier&#x27;s latest news." in html
    assert "re-synced successfully" not in html


def test_a_shopper_reads_plain_words_after_a_resync_that_brought_news(
    client, tracked, django_capture_on_commit_callbacks
):
    # This browser starts the resync (its cookie remembers it); the worker's result is written.
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(_resync_url(tracked), **JSON).status_code == 202
    ResyncJob.objects.filter(shipment=tracked).update(
        state="succeeded", message=str(messages.SUCCESS_MESSAGE), changed=True
    )
    html = client.get(_page(tracked)).content.decode()
    status = re.search(r"data-resync-status[^>]*>(.*?)</div>", html, re.S).group(1)
    assert status == "Updated: this page now shows the carrier&#x27;s latest news."
    # The script words a fresh result the same way.
    assert 'data-msg-updated="Updated: this page now shows the carrier&#x27;s latest news."' in html


def test_resync_without_javascript_is_post_redirect_get(
    client, tracked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_resync_url(tracked))
    assert response.status_code == 303
    assert response["Location"] == _page(tracked)
    page = client.get(response["Location"]).content.decode()
    assert "Resync started." in page
    refused = client.post(_resync_url(tracked))
    assert refused.status_code == 429
    assert "You can resync again in" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1


def test_resync_needs_the_csrf_token(tracked):
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(_resync_url(tracked), **JSON).status_code == 403
    assert not ResyncJob.objects.exists()
    # With the token from the page (cookie + header), it goes through.
    csrf_client.get(_page(tracked))
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(_resync_url(tracked), HTTP_X_CSRFTOKEN=token, **JSON)
    assert response.status_code == 202


def test_resync_is_limited_per_ip_across_tokens(client, shop, settings):
    settings.TRACK_RESYNC_RATE_PER_IP = "2/h"
    shipments = [make_order_shipment(shop, order_number=f"#{n}") for n in range(4)]
    assert client.post(_resync_url(shipments[0]), **JSON).status_code == 202
    assert client.post(_resync_url(shipments[1]), **JSON).status_code == 202
    cycled = client.post(_resync_url(shipments[2]), **JSON)
    assert cycled.status_code == 429
    assert int(cycled["Retry-After"]) >= 1
    assert cycled.json()["reason"] == "rate_limited"
    assert not ResyncJob.objects.filter(shipment=shipments[2]).exists()
    # Counted, not written; the flush writes it once its minute is over.
    assert not ResyncRequest.objects.filter(shipment=shipments[2]).exists()
    services.resync_refusals_flush(now=time.time() + 120)
    audit = ResyncRequest.objects.get(shipment=shipments[2])
    assert (audit.accepted, audit.refused_reason, audit.source) == (
        False,
        "rate_limited",
        "shopper",
    )
    assert audit.ip_address == "127.0.0.1"
    # Another client may.
    assert (
        client.post(_resync_url(shipments[3]), REMOTE_ADDR="192.0.2.44", **JSON).status_code == 202
    )


def test_redis_down_resync_is_503_but_the_page_still_serves(client, tracked, redis_down):
    response = client.post(_resync_url(tracked), **JSON)
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert not ResyncJob.objects.exists()
    page = client.get(_page(tracked))
    assert page.status_code == 200
    assert "Departed hub" in page.content.decode()
    assert client.get(_page(tracked), **JSON).json()["retry_after"] == 0


# --- One cooldown shared with the merchant details page -------------------------------------------


def test_a_shopper_resync_refuses_a_merchant_resync_and_vice_versa(client, tracked):
    merchant = make_user(store=tracked.store)
    merchant_client = Client()
    merchant_client.force_login(merchant)
    merchant_url = f"/app/shipments/{tracked.pk}/resync/"

    assert client.post(_resync_url(tracked), **JSON).status_code == 202
    refused = merchant_client.post(merchant_url, **JSON)
    assert refused.status_code == 429
    assert 295 <= int(refused["Retry-After"]) <= 300
    verdict = services.shipment_resync(shipment=tracked, source="merchant")
    assert not verdict.accepted

    other = make_order_shipment(tracked.store, order_number="#3003")
    assert merchant_client.post(f"/app/shipments/{other.pk}/resync/", **JSON).status_code == 202
    shopper = client.post(_resync_url(other), **JSON)
    assert shopper.status_code == 429
    assert 295 <= int(shopper["Retry-After"]) <= 300
    # The merchant's details page shows the same remaining time.
    detail = merchant_client.get(f"/app/shipments/{other.pk}/", **JSON).json()
    assert abs(detail["retry_after"] - int(shopper["Retry-After"])) <= 2
