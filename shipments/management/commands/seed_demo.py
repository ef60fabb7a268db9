from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from shipments.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo store `demo` (merchant demo/demo, ops ops/ops) with N shipments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shipments", type=int, default=200, help="how many (default 200)")

    def handle(self, *args: object, shipments: int, **options: object) -> None:
        if shipments < 0:
            self.stderr.write("--shipments must be 0 or more")
            raise SystemExit(2)
        report = seed_demo(shipments=shipments)
        self.stdout.write(
            f"demo store: {report.orders} orders, {report.shipments} shipments "
            f"({report.created_shipments} new). Sign in as demo/demo; admin as ops/ops."
        )
        self.stdout.write(
            "Its Shopify shop is demo-store.myshopify.com; send it a sample webhook with\n"
            "  python manage.py shopify_webhook orders/updated "
            "connect/samples/shopify/orders_updated.json"
        )
