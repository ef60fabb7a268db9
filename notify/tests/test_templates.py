"""Every status's e-mail renders as text and HTML, in the store's branding, translatable, and
loads nothing remote but the store's logo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from notify.content import build_message
from notify.models import (
    NOTIFIABLE_STATUSES,
    NotificationSettings,
    ShopperEmail,
    shopper_email_id,
)
from shipments.tests.fixtures import make_shipment

from .helpers import apply

pytestmark = pytest.mark.django_db

URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
TEMPLATES = Path(settings.BASE_DIR) / "templates" / "notify" / "email"


def _parts(message) -> tuple[str, str]:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return message.body, html


@pytest.mark.parametrize("status", [str(s) for s in NOTIFIABLE_STATUSES])
def test_each_status_renders_text_and_html_with_only_site_links_and_the_logo(store, status):
    store.display_name, store.accent_color = "Acme Outfitters", "#c0ffee"
    store.logo_url = "https://cdn.example.com/logo.png"
    store.save()
    NotificationSettings.objects.create(store=store, statuses=[str(s) for s in NOTIFIABLE_STATUSES])
    shipment = make_shipment(store)
    apply((shipment, status))
    email = ShopperEmail.objects.get(pk=shopper_email_id(shipment.pk, status))

    text, html = _parts(build_message(email))

    tracking = f"{settings.SITE_URL}{shipment.get_tracking_url()}"
    for body in (text, html):
        assert "Acme Outfitters" in body
        assert tracking in body
        assert shipment.tracking_number in body
        assert f"Scanned ({status})" in body  # the latest event
        assert "{%" not in body
        assert "{{" not in body
    assert "#c0ffee" in html
    assert 'src="https://cdn.example.com/logo.png"' in html
    remote = [
        url
        for url in URL.findall(html)
        if not url.startswith(settings.SITE_URL + "/") and url != store.logo_url
    ]
    assert remote == []
    assert "<link" not in html
    assert "<script" not in html
    assert "url(" not in html


def test_without_a_logo_the_name_stands_in_and_nothing_is_remote(store):
    shipment = make_shipment(store)
    apply((shipment, "delivered"))
    text, html = _parts(build_message(ShopperEmail.objects.get()))
    assert "<img" not in html
    assert [u for u in URL.findall(html) if not u.startswith(settings.SITE_URL + "/")] == []


def test_every_sentence_of_the_templates_is_marked_for_translation():
    """Outside tags and variables no template holds words: they are all in {% translate %} or
    {% blocktranslate %} blocks."""
    for path in sorted(TEMPLATES.iterdir()):
        source = path.read_text()
        source = re.sub(
            r"\{% blocktranslate.*?%\}.*?\{% endblocktranslate %\}", "", source, flags=re.S
        )
        source = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|<[^>]*>|&\w+;", " ", source, flags=re.S)
        words = [w for w in re.findall(r"[A-Za-z]{2,}", source) if w != "DOCTYPE"]
        assert words == [], f"{path.name}: {words}"


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("de", "Ihre Bestellung {order} ist unterwegs", "Gute Nachricht"),
        ("fr", "Votre commande {order} est en route", "Bonne nouvelle"),
        ("es", "Tu pedido {order} está en camino", "Buenas noticias"),
    ],
)
def test_the_email_speaks_the_stores_language(store, language, subject, words):
    store.default_language = language
    store.save()
    NotificationSettings.objects.create(store=store, statuses=["in_transit"])
    shipment = make_shipment(store)
    apply((shipment, "in_transit"))
    message = build_message(
        ShopperEmail.objects.get(pk=shopper_email_id(shipment.pk, "in_transit"))
    )
    assert message.subject == subject.format(order=shipment.order.order_number)
    text, html = _parts(message)
    assert words in text
    assert words in html


def test_the_unsubscribe_page_speaks_the_shoppers_language(client, store):
    from notify.content import unsubscribe_url

    shipment = make_shipment(store)
    path = unsubscribe_url(shipment.order_id).removeprefix(settings.SITE_URL)
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Diese E-Mails abbestellen" in page
