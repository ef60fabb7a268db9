"""`manage.py api_key create --store SLUG [--name NAME]`: a new merchant API key.

The key is printed as the last line of the output, once; only its hash is stored.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connect import services
from shipments.models import Store


class Command(BaseCommand):
    help = "Create a merchant API key for a store (printed once, as the last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key and print it")
        create.add_argument("--store", required=True, help="store slug")
        create.add_argument("--name", default="", help="what the key is for (e.g. 'ERP')")

    def handle(self, *args: object, **options: object) -> None:
        store = Store.objects.filter(slug=options["store"]).first()
        if store is None:
            raise CommandError(f"no store with slug {options['store']!r}")
        try:
            key, raw = services.api_key_create(store=store, name=str(options["name"]))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"API key {key.name!r} created for {store.slug} (prefix {key.prefix}). "
            "Copy it now: it is not shown again."
        )
        self.stdout.write(raw)
