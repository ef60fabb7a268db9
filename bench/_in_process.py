"""For benchmarks that run Django in their own process (the test client, no server): set Django
up on the given database, migrate it, and wipe the product's Redis keys before and after."""

from __future__ import annotations

from collections.abc import Callable


def django_ready() -> Callable[[], None]:
    """`django.setup()` and `migrate`; returns `wipe_redis`, already called once."""
    import django

    django.setup()
    from django.core.management import call_command

    from shipments.redis_client import get_redis

    call_command("migrate", verbosity=0)
    redis = get_redis()

    def wipe_redis() -> None:
        keys = [*redis.scan_iter("resync*", count=1000)]
        if keys:
            redis.delete(*keys)

    wipe_redis()
    return wipe_redis
