"""`manage.py shopify_webhook TOPIC FILE` signs a sample as Shopify does and the app takes it."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from connect.models import ShopifyWebhook
from shipments.tests.fixtures import make_store

from .shopify_helpers import SAMPLES, SECRET, SHOP

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_command_posts_a_signed_sample(live_server, settings, published):
    settings.SHOPIFY_API_SECRET = SECRET
    store = make_store(slug="cmd-shop", name="Cmd", shop_domain=SHOP)
    out = io.StringIO()
    call_command(
        "shopify_webhook",
        "orders/updated",
        str(SAMPLES / "orders_updated.json"),
        shop=SHOP,
        url=f"{live_server.url}/webhooks/shopify/",
        stdout=out,
    )
    assert out.getvalue().startswith("200 ")
    assert ShopifyWebhook.objects.get(store=store).topic == "orders/updated"


def test_the_command_says_why_when_the_app_refuses(live_server, settings, published):
    settings.SHOPIFY_API_SECRET = SECRET
    with pytest.raises(CommandError, match="answered 404"):
        call_command(
            "shopify_webhook",
            "orders/create",
            str(SAMPLES / "orders_create.json"),
            shop="nobody.myshopify.com",
            url=f"{live_server.url}/webhooks/shopify/",
            stdout=io.StringIO(),
        )
    settings.SHOPIFY_API_SECRET = ""
    with pytest.raises(CommandError, match="SHOPIFY_API_SECRET"):
        call_command("shopify_webhook", "orders/create", "x.json", stdout=io.StringIO())
