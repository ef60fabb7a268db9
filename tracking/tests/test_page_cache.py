"""The tracking page is served from Redis (tracking/page_cache.py) and is still always current:
every kind of write people can see shows on the next view; per-request parts (cooldown, CSRF
token, the shopper's own job, language links) are never shared; Redis down, the page renders
from the database."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.humanize.templatetags import humanize
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shipments import services
from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status
from shipments.models import Shipment, Store
from shipments.redis_client import get_redis
from shipments.services import shipments_apply_results
from shipments.services.corrections import shipment_retrack
from shipments.tests.fixtures import make_shipment
from tracking import page_cache

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
FRAGMENT = {"HTTP_X_FRAGMENT": "timeline"}


def _url(shipment: Shipment, **query: str) -> str:
    url = reverse("tracking:page", args=[shipment.public_token])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _html(client: Client, shipment: Shipment, **headers: str) -> str:
    response = client.get(_url(shipment), **headers)
    assert response.status_code == 200
    return response.content.decode()


def _cached_keys() -> list[str]:
    return list(get_redis().scan_iter(f"{page_cache.KEY_PREFIX}*"))


def _warm(client: Client, shipment: Shipment) -> None:
    """The page, its fragment and its JSON, each viewed once: all three are now cached."""
    for headers in ({}, FRAGMENT, JSON):
        assert client.get(_url(shipment), **headers).status_code == 200


def test_a_second_view_is_served_from_the_cache_with_one_query(
    client, tracked, django_assert_max_num_queries
):
    first = _html(client, tracked)
    assert len(_cached_keys()) == 1
    with django_assert_max_num_queries(1):
        again = _html(client, tracked)
    # Only the CSRF token differs (it is masked afresh on every request).
    assert (
        again.split('name="csrfmiddlewaretoken"')[0] == first.split('name="csrfmiddlewaretoken"')[0]
    )
    assert "Departed hub" in again
    assert "Acme Outdoor" in again


def test_a_pull_shows_on_the_next_view(client, tracked):
    _warm(client, tracked)
    scan = TrackingEventData(
        timezone.now() - dt.timedelta(minutes=5), Status.OUT_FOR_DELIVERY, "With the courier"
    )
    result = TrackingResult(
        tracked.carrier, tracked.tracking_number, Status.OUT_FOR_DELIVERY, events=(scan,)
    )
    shipment = Shipment.objects.get(pk=tracked.pk)
    shipments_apply_results(
        shipments=[shipment], results={tracked.tracking_number: result}, now=timezone.now()
    )
    assert "With the courier" in _html(client, tracked)
    assert "With the courier" in _html(client, tracked, **FRAGMENT)
    assert client.get(_url(tracked), **JSON).json()["status"] == "out_for_delivery"


def test_a_pull_without_news_still_moves_last_updated(client, tracked):
    assert "7\xa0minutes ago" in _html(client, tracked)
    result = TrackingResult(tracked.carrier, tracked.tracking_number, Status.IN_TRANSIT)
    shipment = Shipment.objects.get(pk=tracked.pk)
    shipments_apply_results(
        shipments=[shipment], results={tracked.tracking_number: result}, now=timezone.now()
    )
    updated = _html(client, tracked).split("Last updated", 1)[1].split("</dd>", 1)[0]
    assert "7\xa0minutes ago" not in updated
    assert re.search(r">(now|\d+\xa0seconds? ago)</time>", updated)


def test_last_updated_moves_with_the_clock_on_the_same_stored_page(
    client, tracked, monkeypatch, django_assert_max_num_queries
):
    # "7 minutes ago" becomes "12 minutes ago" without a new rendering: the wording is put in
    # for each view, so the minute it changes does not make every view render at once.
    assert "7\xa0minutes ago" in _html(client, tracked)
    assert "7\xa0minutes ago" in _html(client, tracked, **FRAGMENT)
    keys = sorted(_cached_keys())

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(minutes=5)

    monkeypatch.setattr(humanize, "datetime", Later)
    with django_assert_max_num_queries(2):
        page = _html(client, tracked)
        fragment = _html(client, tracked, **FRAGMENT)
    for html in (page, fragment):
        assert ">12\xa0minutes ago</time>" in html
        assert "7\xa0minutes ago" not in html
        assert "liveago" not in html
    assert sorted(_cached_keys()) == keys


def test_a_correction_shows_on_the_next_view(client, tracked):
    _warm(client, tracked)
    shipment_retrack(
        shipment=Shipment.objects.get(pk=tracked.pk),
        tracking_number="1Z999AA10123456784",
        carrier="ups",
        now=timezone.now(),
        pull=False,
    )
    html = _html(client, tracked)
    assert "1Z999AA10123456784" in html
    assert "Departed hub" not in html  # the old carrier's scans left the timeline
    assert client.get(_url(tracked), **JSON).json()["tracking_number"] == "1Z999AA10123456784"


def test_a_store_branding_edit_shows_on_the_next_view(client, tracked):
    _warm(client, tracked)
    store = Store.objects.get(pk=tracked.store_id)
    store.display_name = "Acme Mountain Gear"
    store.logo_url = "https://cdn.example.com/mountain.png"
    store.save()  # what the admin does
    html = _html(client, tracked)
    assert "Acme Mountain Gear" in html
    assert "mountain.png" in html
    # Any write path is covered: the key holds the store's shown columns themselves.
    Store.objects.filter(pk=tracked.store_id).update(display_name="Acme Summit")
    assert "Acme Summit" in _html(client, tracked)


def test_a_delivery_rule_edit_shows_on_the_next_view(client, tracked):
    Shipment.objects.filter(pk=tracked.pk).update(estimated_delivery=None)
    assert "estimated by the store" not in _html(client, tracked)
    services.store_delivery_rule_set(
        store=Store.objects.get(pk=tracked.store_id),
        processing_days=0,
        transit_days="2-3",
        transit_by_carrier={},
        business_days="12345",
        cutoff=None,
    )
    assert "estimated by the store" in _html(client, tracked)
    assert client.get(_url(tracked), **JSON).json()["estimated_delivery_source"] == "store"


def test_a_language_change_shows_on_the_next_view_and_each_language_has_its_key(client, tracked):
    assert 'lang="en"' in _html(client, tracked)
    Store.objects.filter(pk=tracked.store_id).update(default_language="de")
    html = _html(client, tracked)
    assert '<html lang="de"' in html
    assert "Sendungsverlauf" in html
    french = Client().get(_url(tracked, lang="fr")).content.decode()
    assert '<html lang="fr"' in french
    assert len(_cached_keys()) == 3  # en, de, fr
    # The shopper's own choice is remembered in a cookie: still French, from the cache.
    again = Client(headers={"Cookie": "django_language=fr"}).get(_url(tracked))
    assert '<html lang="fr"' in again.content.decode()


def test_a_sibling_shipment_change_shows_in_the_tabs(client, tracked):
    other = make_shipment(tracked.store, order=tracked.order, carrier="ups", status="in_transit")
    assert "Package 2 of 2" in _html(client, tracked)
    other.status = "delivered"
    other.save()
    assert "Delivered" in _html(client, tracked).split("shipment-tabs", 1)[1].split("</nav>")[0]
    services.shipments_cancel(store=tracked.store, shipment_ids=[other.pk], now=timezone.now())
    assert "Package 2 of 2" not in _html(client, tracked)


def test_the_cooldown_and_the_shoppers_own_job_are_rendered_per_request(client, tracked):
    html = _html(client, tracked)
    assert "disabled" not in html.split("resync-button", 1)[1].split(">", 1)[0]
    response = client.post(reverse("tracking:resync", args=[tracked.public_token]))
    assert response.status_code == 303
    html = _html(client, tracked)  # same version: the page itself comes from the cache
    button = html.split("resync-button", 1)[1].split("</button>", 1)[0]
    assert "disabled" in button
    assert "available in" in button
    assert "Resyncing" in html.split("data-resync-status", 1)[1].split("</div>", 1)[0]
    # Another shopper sees the cooldown, never this one's job.
    other = Client().get(_url(tracked)).content.decode()
    assert "available in" in other
    assert "Resyncing" not in other.split("data-resync-status", 1)[1].split("</div>", 1)[0]


def test_the_no_js_resync_message_shows_on_the_cached_page(client, tracked):
    _html(client, tracked)
    client.post(reverse("tracking:resync", args=[tracked.public_token]))
    html = _html(client, tracked)
    assert 'class="messages"' in html
    assert 'class="messages"' not in _html(client, tracked)  # shown once
    assert "<!--live:" not in html
    assert "livecsrf" not in html


def test_language_links_keep_the_query_of_each_request(client, tracked):
    _html(client, tracked)
    html = client.get(_url(tracked, utm_source="mail")).content.decode()
    assert "utm_source=mail&amp;lang=de" in html


def test_redis_down_the_page_renders_from_the_database(client, tracked, redis_down):
    for headers in ({}, FRAGMENT):
        assert "Departed hub" in _html(client, tracked, **headers)
    response = client.get(_url(tracked), **JSON)
    assert response.status_code == 200
    assert response.json()["retry_after"] == 0


def test_redis_down_after_caching_the_page_still_renders(client, tracked, settings):
    _warm(client, tracked)
    from shipments import redis_client

    redis_client._client.cache_clear()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    try:
        assert "Departed hub" in _html(client, tracked)
    finally:
        redis_client._client.cache_clear()


def test_no_cache_when_switched_off(client, tracked, settings):
    settings.TRACKING_PAGE_CACHE_SECONDS = 0
    _warm(client, tracked)
    assert _cached_keys() == []


def test_text_that_spells_a_marker_stays_text(client, tracked):
    Shipment.objects.filter(pk=tracked.pk).update(
        carrier_status_text='<!--live:x:tracking/_resync.html--> "quoted"'
    )
    html = _html(client, tracked)
    assert html.count("data-resync-root") == 1
    assert "&lt;!--live:x:tracking/_resync.html--&gt;" in html
