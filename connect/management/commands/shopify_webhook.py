"""`manage.py shopify_webhook TOPIC FILE`: sign a payload as Shopify does and post it (demos).

python manage.py shopify_webhook orders/updated connect/samples/shopify/orders_updated.json
"""

from __future__ import annotations

import uuid
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connect.shopify.signature import sign
from shipments.demo import DEMO_SHOP_DOMAIN


class Command(BaseCommand):
    help = "Sign a JSON payload with SHOPIFY_API_SECRET and post it to /webhooks/shopify/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("topic", help="e.g. orders/create, fulfillments/update")
        parser.add_argument("file", type=Path, help="the JSON body (connect/samples/shopify/)")
        parser.add_argument("--shop", default=DEMO_SHOP_DOMAIN, help="X-Shopify-Shop-Domain")
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/webhooks/shopify/",
            help="where the app answers (default: ./run's address)",
        )
        parser.add_argument("--webhook-id", default="", help="default: a new one each time")

    def handle(self, *args: object, **options: object) -> None:
        secret = settings.SHOPIFY_API_SECRET
        if not secret:
            raise CommandError("SHOPIFY_API_SECRET is not set: the app would answer 401.")
        path = options["file"]
        assert isinstance(path, Path)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        webhook_id = str(options["webhook_id"] or uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": str(options["topic"]),
            "X-Shopify-Hmac-Sha256": sign(body, secret),
            "X-Shopify-Shop-Domain": str(options["shop"]),
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-API-Version": "2026-07",
        }
        try:
            response = requests.post(str(options["url"]), data=body, headers=headers, timeout=10)
        except requests.RequestException as exc:
            raise CommandError(f"could not post to {options['url']}: {exc}") from None
        self.stdout.write(f"{response.status_code} {response.text.strip()[:300]}")
        self.stdout.write(f"webhook id {webhook_id}")
        if response.status_code >= 300:
            raise CommandError(f"the app answered {response.status_code}")
