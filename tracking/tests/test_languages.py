"""The shopper's language (docs/contract.md §10): `?lang=` (remembered) beats the cookie, which
beats Accept-Language, which beats the store's default language; the merchant app stays English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from shipments.models import ResyncJob, Shipment

from .conftest import add_event, make_order_shipment

JSON = {"HTTP_ACCEPT": "application/json"}
COOKIE = settings.LANGUAGE_COOKIE_NAME


def _page(shipment: Shipment, query: str = "") -> str:
    return reverse("tracking:page", args=[shipment.public_token]) + query


def _status(html: str) -> str:
    return re.search(r'<h1 id="status-title"[^>]*>(.*?)</h1>', html, re.S).group(1)


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.fixture
def french_store_shipment(tracked: Shipment) -> Shipment:
    tracked.store.default_language = "fr"
    tracked.store.save(update_fields=["default_language"])
    return tracked


# --- Which language ---------------------------------------------------------------------------


def test_without_any_wish_the_page_speaks_the_stores_default_language(
    client, french_store_shipment
):
    html = client.get(_page(french_store_shipment)).content.decode()
    assert _lang(html) == "fr"
    assert _status(html) == "En transit"


def test_a_store_without_a_default_speaks_english(client, tracked):
    assert tracked.store.default_language == "en"
    response = client.get(_page(tracked))
    assert _status(response.content.decode()) == "In transit"
    assert response["Content-Language"] == "en"


def test_accept_language_beats_the_store_default(client, french_store_shipment):
    response = client.get(
        _page(french_store_shipment), HTTP_ACCEPT_LANGUAGE="pt-BR, de-AT;q=0.8, en;q=0.5"
    )
    html = response.content.decode()
    assert _lang(html) == "de"
    assert _status(html) == "Unterwegs"
    assert response["Content-Language"] == "de"
    assert COOKIE not in response.cookies  # only a ?lang= choice is remembered


def test_the_cookie_beats_accept_language(client, french_store_shipment):
    client.cookies[COOKIE] = "es"
    html = client.get(_page(french_store_shipment), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert _status(html) == "En tránsito"


def test_lang_beats_the_cookie_and_is_remembered_for_the_shoppers_pages(
    client, french_store_shipment
):
    client.cookies[COOKIE] = "es"
    response = client.get(_page(french_store_shipment, "?lang=de"), HTTP_ACCEPT_LANGUAGE="fr")
    assert _status(response.content.decode()) == "Unterwegs"
    cookie = response.cookies[COOKIE]
    assert cookie.value == "de"
    assert cookie["path"] == "/track/"
    assert cookie["samesite"] == "Lax"
    # The next page, without ?lang=, is still German.
    html = client.get(reverse("tracking:lookup"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Bestellung verfolgen" in html


@pytest.mark.parametrize("bad", ["xx", "de-", "../../etc", "zh-hans", "en" * 20, ""])
def test_an_unknown_language_is_ignored(client, french_store_shipment, bad):
    client.cookies[COOKIE] = "klingon"
    response = client.get(_page(french_store_shipment), {"lang": bad}, HTTP_ACCEPT_LANGUAGE="es-MX")
    assert _status(response.content.decode()) == "En tránsito"
    assert COOKIE not in response.cookies


def test_responses_vary_on_what_decides_the_language(client, tracked):
    for response in (
        client.get(_page(tracked)),
        client.get(_page(tracked), **JSON),
        client.get(reverse("tracking:lookup")),
        client.get("/track/nope/"),
    ):
        vary = {v.strip().lower() for v in response["Vary"].split(",")}
        assert {"cookie", "accept-language", "accept"} <= vary
        assert "no-cache" in response.get("Cache-Control", "") or response.status_code == 404


def test_the_merchant_app_stays_english(client, tracked):
    response = client.get("/accounts/login/?lang=de", HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert _lang(html) == "en"
    assert COOKIE not in response.cookies
    assert "accept-language" not in response.get("Vary", "").lower()


# --- The switcher -------------------------------------------------------------------------------


def _switcher(html: str) -> str:
    return re.search(r'<nav class="languages".*?</nav>', html, re.S).group(0)


def test_the_tracking_page_has_a_plain_link_switcher(client, tracked):
    html = client.get(_page(tracked), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    nav = _switcher(html)
    assert 'aria-label="Langue"' in nav
    links = re.findall(
        r'<a href="([^"]+)" lang="(\w+)" hreflang="\w+"( aria-current="true")?>([^<]+)</a>', nav
    )
    assert [(lang, name, bool(current)) for _, lang, current, name in links] == [
        ("en", "English", False),
        ("de", "Deutsch", False),
        ("fr", "Français", True),
        ("es", "Español", False),
    ]
    assert links[1][0] == _page(tracked, "?lang=de")


def test_the_lookup_switcher_keeps_the_store_but_never_an_email(client, shop):
    url = reverse("tracking:lookup")
    html = client.get(url, {"store": shop.slug, "lang": "es"}).content.decode()
    nav = _switcher(html)
    assert f'href="{url}?store={shop.slug}&amp;lang=de" lang="de"' in nav
    assert 'lang="es" hreflang="es" aria-current="true"' in nav
    assert "Seguir su pedido" in html
    # A lookup that fails validation renders the page again: no address in the links.
    html = client.get(url, {"order": "#1", "email": "not-an-address", "lang": "de"}).content
    assert b"not-an-address" not in _switcher(html.decode()).encode()


def test_a_branded_lookup_speaks_the_stores_language(client, shop):
    shop.default_language = "es"
    shop.save(update_fields=["default_language"])
    html = client.get(reverse("tracking:lookup"), {"store": shop.slug}).content.decode()
    assert "Seguir su pedido" in html
    assert "Correo electrónico" in html  # the form's label


# --- What is translated -------------------------------------------------------------------------


def _event_at(shipment: Shipment, when: dt.datetime, **kw) -> None:
    add_event(
        shipment,
        hours_ago=(timezone.now() - when).total_seconds() / 3600,
        status=kw.pop("status", "in_transit"),
        description=kw.pop("description", "Arrived at the DHL hub Leipzig"),
    )


@pytest.mark.parametrize(
    ("lang", "date", "status", "steps", "zone_note"),
    [
        ("en", "20 Nov 2026", "In transit", "Out for delivery", "Times are shown in"),
        ("de", "20. Nov. 2026", "Unterwegs", "In Zustellung", "Zeitangaben in der Zeitzone"),
        ("fr", "20 nov. 2026", "En transit", "En cours de livraison", "Les heures sont indiquées"),
        ("es", "20 nov 2026", "En tránsito", "En reparto", "Las horas se muestran"),
    ],
)
def test_statuses_steps_and_dates_in_the_shoppers_language(
    client, shop, lang, date, status, steps, zone_note
):
    shipment = make_order_shipment(shop, status="in_transit", carrier="dhl")
    _event_at(shipment, dt.datetime(2026, 11, 20, 13, 30, tzinfo=dt.UTC))  # 14:30 in Berlin
    html = client.get(_page(shipment, f"?lang={lang}")).content.decode()
    assert _status(html) == status
    assert f'<span class="event-date">{date}</span>, <span class="event-time">14:30</span>' in html
    assert f'<span class="step-label">{steps}</span>' in html
    assert zone_note in html
    # The carrier's own words stay as the carrier wrote them.
    assert "<bdi>Arrived at the DHL hub Leipzig</bdi>" in html


def test_relative_times_and_the_resync_form_are_translated(client, tracked):
    html = client.get(_page(tracked, "?lang=de")).content.decode()
    assert re.search(r">vor 7\s+Minuten</time>", html)  # django.contrib.humanize's own German
    assert 'data-label="Neu abrufen"' in html
    assert 'data-label-wait="Neu abrufen — möglich in {time}"' in html
    assert 'data-msg-next="Ein neuer Abruf ist um {time} wieder möglich."' in html
    assert 'data-msg-updated="Aktualisiert: Diese Seite zeigt' in html
    # Every text of resync.js's DEFAULTS has its translated data-* attribute on the form.
    for attribute in ("label", "label-busy", "msg-working", "msg-error", "msg-slow"):
        assert f"data-{attribute}=" in html


def test_the_timeline_fragment_speaks_the_remembered_language(client, tracked):
    client.cookies[COOKIE] = "fr"
    html = client.get(_page(tracked), HTTP_X_FRAGMENT="timeline").content.decode()
    assert "Historique de suivi" in html
    assert "En transit" in html


def test_errors_and_refusals_in_the_shoppers_language(client, tracked, settings):
    # Lookup: not found, and form errors (Django's own translations for the field errors).
    url = reverse("tracking:lookup")
    body = client.post(
        url, {"order_number": "#404", "email": "x@example.com"}, **JSON, HTTP_ACCEPT_LANGUAGE="es"
    ).json()
    assert body["error"].startswith("No hemos encontrado ningún pedido")
    html = client.post(url, {"order_number": "", "email": "nope"}, HTTP_ACCEPT_LANGUAGE="de")
    assert "Dieses Feld ist zwingend erforderlich." in html.content.decode()
    # A wrong token.
    body = client.get("/track/not-a-token/", **JSON, HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["error"].startswith("Nous n'avons pas trouvé cette page de suivi")
    # A resync refused by the cooldown, with the wait in words of the language.
    resync = reverse("tracking:resync", args=[tracked.public_token])
    assert client.post(resync, **JSON, HTTP_ACCEPT_LANGUAGE="de").status_code == 202
    again = client.post(resync, **JSON, HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 429
    assert re.fullmatch(
        r"Ein neuer Abruf ist in \d Min\. \d+ Sek\. wieder möglich\.", again.json()["error"]
    )


def test_a_finished_resync_is_told_in_the_shoppers_language(client, tracked):
    job = ResyncJob.objects.create(
        shipment=tracked,
        source="shopper",
        state="succeeded",
        message="Nothing new from the carrier since 20 Nov 2026, 14:30.",
        changed=False,
    )
    tracked.last_event_at = dt.datetime(2026, 11, 20, 13, 30, tzinfo=dt.UTC)
    tracked.save(update_fields=["last_event_at"])
    url = reverse("tracking:resync_status", args=[tracked.public_token, job.pk])
    body = client.get(url, **JSON, HTTP_ACCEPT_LANGUAGE="de").json()
    assert body["message"] == "Seit 20. Nov. 2026, 14:30 nichts Neues vom Versanddienstleister."
    english = client.get(url, **JSON, HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["message"] == "Nothing new from the carrier since 20 Nov 2026, 14:30."
    ResyncJob.objects.filter(pk=job.pk).update(state="failed", message="carrier said 500")
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "No hemos podido obtener las últimas novedades del transportista" in html
    assert "carrier said 500" not in html


def test_ops_set_the_store_default_language_in_the_admin(admin_client, shop):
    url = reverse("admin:shipments_store_change", args=[shop.pk])
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<select name="default_language"' in html
    assert '<option value="es">Español</option>' in html
    assert "Change store" in html  # the admin stays English
