"""One path converter for every database id in our URLs: `<id:shipment_id>`.

Django's `<int:…>` accepts any number of digits, and a 23-digit id then reaches the database,
where it overflows a 64-bit column (`OverflowError` on SQLite, an error on PostgreSQL): a 500 for
what is only a wrong URL. `<id:…>` matches 1 to 18 digits, which every id we hand out has (a
bigint holds 19), so a longer one is simply a URL that matches nothing: 404.
"""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
