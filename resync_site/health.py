"""`GET /healthz`: 200 when the database, Redis and the broker answer; 503 naming what does not."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shipments.redis_client import get_redis

_TIMEOUT = 0.3  # seconds per probe; three probes stay well within 1 s


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not answering"; it is reported
        return f"{exc.__class__.__name__}: {exc}"[:200]
    return None


def _ping(client: redis.Redis) -> str | None:
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"{exc.__class__.__name__}: {exc}"[:200]
    return None


def _broker_client() -> redis.Redis | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    problems = {
        "database": _check_database(),
        "redis": _ping(get_redis()),
    }
    broker = _broker_client()
    if broker is not None:
        try:
            problems["broker"] = _ping(broker)
        finally:
            broker.close()
    for name, problem in problems.items():
        checks[name] = "ok" if problem is None else problem
    failing = [name for name, problem in problems.items() if problem is not None]
    status = 503 if failing else 200
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": checks}
    return JsonResponse(body, status=status)
