"""Security sweep: every merchant and public URL, with another store's ids, bad tokens and bad
input of every kind, answers 400/404 (or 403/429 where that is the rule) — never a 500, never
another store's data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client

from shipments import services
from shipments.models import ResyncJob, SyncRun
from shipments.tests.fixtures import make_shipment, make_store, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
HUGE = "x" * 100_000
NEVER = {500, 502, 503}


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    mine, theirs = make_store(slug="mine"), make_store(slug="theirs")
    me = make_user("me", store=mine)
    my_shipment = make_shipment(mine, carrier="dhl")
    their_shipment = make_shipment(theirs, carrier="ups")
    with django_capture_on_commit_callbacks():
        their_job = services.shipment_resync(shipment=their_shipment, source="merchant").job
        their_run = services.store_bulk_resync(store=theirs, window="7d", source="merchant").run
    client = Client()
    client.force_login(me)
    return {
        "client": client,
        "mine": my_shipment,
        "theirs": their_shipment,
        "their_job": their_job,
        "their_run": their_run,
    }


def _check(response, *allowed: int) -> None:
    assert response.status_code not in NEVER, response.content[:300]
    assert response.status_code in allowed, (response.status_code, response.content[:300])


def test_another_stores_ids_answer_404_everywhere(world):
    client, theirs = world["client"], world["theirs"]
    job, run = world["their_job"], world["their_run"]
    urls = [
        ("get", f"/app/shipments/{theirs.pk}/"),
        ("post", f"/app/shipments/{theirs.pk}/resync/"),
        ("get", f"/app/shipments/{theirs.pk}/resync/{job.pk}/"),
        ("get", f"/app/shipments/{world['mine'].pk}/resync/{job.pk}/"),  # their job, my shipment
        ("get", f"/app/sync-runs/{run.pk}/"),
        ("get", f"/track/{world['mine'].public_token}/resync/{job.pk}/"),
    ]
    for method, url in urls:
        for extra in ({}, JSON):
            response = getattr(client, method)(url, **extra)
            _check(response, 404)
            assert theirs.tracking_number not in response.content.decode()
    # The store switcher will not switch to a store you are not a member of.
    _check(client.post("/app/stores/switch/", {"store": theirs.store_id}), 404, 400)
    for bad in ("²", "9" * 40, "", "abc"):
        _check(client.post("/app/stores/switch/", {"store": bad}), 404, 400)
    listing = client.get("/app/shipments/", **JSON).json()
    assert [r["tracking_number"] for r in listing["results"]] == [world["mine"].tracking_number]
    assert ResyncJob.objects.filter(shipment=theirs).count() == 1  # nothing new was queued
    assert SyncRun.objects.filter(store=theirs.store).count() == 1


@pytest.mark.parametrize(
    "token",
    ["nope", "a" * 500, "%00", "..%2F..%2Fetc", "%ff%fe", "' OR 1=1 --", "<script>"],
)
def test_bad_tokens_answer_404(client, world, token):
    for url in (f"/track/{token}/", f"/track/{token}/resync/", f"/track/{token}/theme.css"):
        _check(client.get(url), 404, 405)
        _check(client.get(url, **JSON), 404, 405)
    _check(client.post(f"/track/{token}/resync/", **JSON), 404, 403)


@pytest.mark.parametrize(
    "path",
    [
        "/app/shipments/abc/",
        "/app/shipments/-1/",
        "/app/sync-runs/1e3/",
        "/app/shipments/1/resync/not-a-uuid/",
        "/app/shipments/99999999999999999999/",
    ],
)
def test_non_numeric_and_out_of_range_ids_answer_404(world, path):
    _check(world["client"].get(path), 404)
    _check(world["client"].get(path, **JSON), 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"window": ""},
        {"window": "8d"},
        {"window": HUGE},
        {"window": ["7d", "30d"]},
        {"window": "7d\x00"},
    ],
)
def test_bad_bulk_windows_answer_400_with_a_clear_message(world, body):
    response = world["client"].post("/app/shipments/resync/", body, **JSON)
    _check(response, 400)
    assert "window" in response.json()["error"].lower() or "Choose" in response.json()["error"]


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("application/json", b'{"window": 7}'),
        ("application/json", b"[1, 2, 3]"),
        ("application/json", b'{"window": null}'),
        ("application/json", b"{not json"),
        ("application/json", b"\xff\xfe\xfd"),
        ("application/x-www-form-urlencoded", b"window=%ff%fe"),
        ("application/x-www-form-urlencoded", b"\xff\xfe=\xfd"),
        ("text/plain", HUGE.encode()),
    ],
)
def test_bad_bodies_never_500(world, content_type, raw):
    response = world["client"].generic(
        "POST", "/app/shipments/resync/", raw, content_type=content_type, **JSON
    )
    _check(response, 400)
    assert response.json()["error"]


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-5",
        "?page=999999999999999999999",
        "?status=bogus",
        "?carrier=%ff",
        f"?q={'y' * 5000}",
        "?q=%00",
        "?run=abc&outcome=failed",
        "?run=%C2%B2&outcome=failed",
        "?run=99999999999999999999999999&outcome=failed",
        "?page_size=%C2%B2",
        "?page=%C2%B2",
        "?run=1&outcome=<script>",
        "?status=delivered&status=pending",
    ],
)
def test_bad_list_filters_never_500(world, query):
    for extra in ({}, JSON):
        response = world["client"].get(f"/app/shipments/{query}", **extra)
        _check(response, 200, 400, 404)
        assert "<script>" not in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"order_number": "", "email": ""},
        {"order_number": HUGE, "email": HUGE},
        {"order_number": "#1", "email": "not-an-email"},
        {"order_number": ["a", "b"], "email": "x@example.com"},
        {"order_number": "\x00", "email": "a@b.c"},
    ],
)
def test_bad_lookups_never_500(client, world, data):
    for extra in ({}, JSON):
        _check(client.post("/track/", data, **extra), 400, 404)
    _check(client.get("/track/", data), 200, 400, 404)


def test_invalid_utf8_and_garbage_on_public_endpoints(client, world):
    token = world["mine"].public_token
    for path in ("/track/", f"/track/{token}/resync/"):
        for raw in (b"\xff\xfe\xfd", b"{", HUGE.encode()):
            response = client.generic("POST", path, raw, content_type="application/json", **JSON)
            assert response.status_code < 500


def test_login_with_huge_input_is_a_normal_failure(client):
    response = client.post("/accounts/login/", {"username": HUGE, "password": HUGE})
    _check(response, 200)


def test_admin_requires_staff(world):
    _check(world["client"].get("/admin/"), 302)
    response = Client().get("/admin/shipments/shipment/", **JSON)
    _check(response, 302)


def test_job_ids_are_not_enumerable(client, world):
    token = world["mine"].public_token
    _check(client.get(f"/track/{token}/resync/{uuid.uuid4()}/", **JSON), 404)
    body = client.get(f"/track/{token}/", **JSON).json()
    assert "id" not in json.dumps(body).replace('"tracking_', "").split('":')[0]


# --- Hardening (issue #13): deep JSON, long ids, JSON errors, CSP, proxies, one-line logs -------

DEEP = b"[" * 100_000 + b"]" * 100_000
LONG_ID = "9" * 23


def _shopify_signed(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "HTTP_X_SHOPIFY_HMAC_SHA256": base64.b64encode(digest).decode(),
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": "mine.myshopify.com",
        "HTTP_X_SHOPIFY_TOPIC": "orders/create",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": str(uuid.uuid4()),
    }


def test_deeply_nested_json_is_a_400_on_every_endpoint_that_reads_json(world, settings):
    """100,000 nested brackets made `json.loads` raise RecursionError: a 500 on the merchant's
    POST endpoints. Every endpoint that reads a JSON body now answers 400 (or its usual refusal)."""
    from connect.services import api_key_create

    client, mine = world["client"], world["mine"]
    for path in (
        "/app/shipments/resync/",
        f"/app/shipments/{mine.pk}/carrier/",
        "/app/shipments/carrier/",
        "/app/settings/carriers/",
        "/app/settings/api-keys/",
    ):
        response = client.post(path, DEEP, content_type="application/json", **JSON)
        _check(response, 400)
        assert response["Content-Type"].startswith("application/json"), path
    _key, raw = api_key_create(store=mine.store, name="sweep")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}", **JSON}
    for path in ("/api/v1/shipments/", f"/api/v1/shipments/{mine.pk}/carrier/"):
        _check(Client().post(path, DEEP, content_type="application/json", **bearer), 400)
    # A Shopify webhook is signed first; a signed but absurd body is still only a 400.
    settings.SHOPIFY_API_SECRET = "sweep-secret"
    mine.store.shop_domain = "mine.myshopify.com"
    mine.store.save(update_fields=["shop_domain"])
    response = Client().post(
        "/webhooks/shopify/",
        DEEP[:20_000] + DEEP[-20_000:],
        content_type="application/json",
        **_shopify_signed(DEEP[:20_000] + DEEP[-20_000:], "sweep-secret"),
    )
    _check(response, 400, 413)


@pytest.mark.parametrize(
    "path",
    [
        f"/app/shipments/{LONG_ID}/",
        f"/app/shipments/{LONG_ID}/resync/",
        f"/app/shipments/{LONG_ID}/resync/{uuid.uuid4()}/",
        f"/app/shipments/{LONG_ID}/carrier/",
        f"/app/sync-runs/{LONG_ID}/",
        f"/app/settings/api-keys/{LONG_ID}/revoke/",
        f"/api/v1/shipments/{LONG_ID}/",
        f"/api/v1/sync-runs/{LONG_ID}/",
    ],
)
def test_ids_too_long_for_the_database_answer_404(world, path):
    """A 23-digit id overflowed the database's integer (OverflowError on SQLite, an error on
    PostgreSQL): one path converter for every id (`<id:…>`, at most 18 digits) makes it a 404."""
    for method in ("get", "post"):
        for extra in ({}, JSON):
            response = getattr(world["client"], method)(path, **extra)
            _check(response, 404, 405, 401)


def test_json_clients_get_json_errors_never_html(world):
    client = world["client"]
    cases = [
        (client.put("/app/shipments/", **JSON), 405),
        (client.get("/app/shipments/resync/", **JSON), 405),
        (client.get("/app/no-such-page/", **JSON), 404),
        (client.get("/no-such-page", **JSON), 404),
        # Anonymous: 401 JSON, not a redirect to the sign-in page.
        (Client().get("/app/shipments/", **JSON), 401),
        (Client().post("/app/shipments/resync/", {"window": "7d"}, **JSON), 401),
        # A post without its CSRF token (a session client): 403 JSON.
        (
            _csrf_client(world).post("/app/shipments/resync/", {"window": "7d"}, **JSON),
            403,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.status_code, response.content[:200])
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["error"]
    assert "GET" not in cases[1][0]["Allow"]
    assert "POST" in cases[1][0]["Allow"]
    # Browsers still get the sign-in redirect and styled pages.
    assert Client().get("/app/shipments/").status_code == 302
    forbidden = _csrf_client(world).post("/app/shipments/resync/", {"window": "7d"})
    assert forbidden.status_code == 403
    assert "This form has expired" in forbidden.content.decode()


def _csrf_client(world) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(_user(world))
    return client


def _user(world):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=world["client"].session["_auth_user_id"])


def test_every_html_page_carries_a_content_security_policy(world, client, django_user_model):
    ops = django_user_model.objects.create_superuser("ops-sweep", "ops@example.com", "pw-123456")
    admin = Client()
    admin.force_login(ops)
    pages = {
        "sign-in": client.get("/accounts/login/"),
        "merchant list": world["client"].get("/app/shipments/"),
        "merchant details": world["client"].get(f"/app/shipments/{world['mine'].pk}/"),
        "merchant 404": world["client"].get("/app/shipments/0/"),
        "csrf failure": _csrf_client(world).post("/app/shipments/resync/", {"window": "7d"}),
        "admin login": client.get("/admin/login/"),
        "admin index": admin.get("/admin/"),
        "admin change list": admin.get("/admin/shipments/shipment/"),
        "tracking page": client.get(world["mine"].get_tracking_url()),
        "lookup": client.get("/track/"),
    }
    for name, response in pages.items():
        assert response["Content-Type"].startswith("text/html"), name
        policy = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, (name, policy)
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors" in policy, name
    # Only the admin may use inline styles (Django's admin templates set `style` attributes).
    assert "'unsafe-inline'" in pages["admin index"]["Content-Security-Policy"]
    assert "'unsafe-inline'" not in pages["merchant list"]["Content-Security-Policy"]


def test_the_500_page_has_a_policy_and_its_inline_styles_a_nonce(world, monkeypatch):
    from shipments import views

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.selectors, "shipment_list_for_store", boom)
    client = world["client"]
    client.raise_request_exception = False
    page = client.get("/app/shipments/")
    assert page.status_code == 500
    nonce = re.search(r'<style nonce="([^"]+)">', page.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in page["Content-Security-Policy"]
    as_json = client.get("/app/shipments/", **JSON)
    assert as_json.status_code == 500
    assert as_json.json()["error"]


@pytest.mark.parametrize("bad", ["*", "javascript:", "data:", "https:", "https://*", "ftp://x.io"])
def test_track_frame_ancestors_refuses_wildcards_and_schemes_at_start_up(bad):
    env = {**os.environ, "TRACK_FRAME_ANCESTORS": f"https://shop.example.com,{bad}", "DEBUG": "1"}
    result = subprocess.run(  # noqa: S603  (our own manage.py)
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRACK_FRAME_ANCESTORS" in result.stderr
    assert bad in result.stderr


def test_track_frame_ancestors_accepts_origins():
    from resync_site.csp import bad_frame_ancestors

    good = [
        "'self'",
        "https://shop.example.com",
        "https://*.example.com:8443",
        "http://localhost:8000",
    ]
    assert bad_frame_ancestors(good) == []


@pytest.mark.parametrize(
    ("proxies", "separate_buckets"),
    [(0, False), (1, True)],
)
def test_behind_a_proxy_each_shopper_has_its_own_lookup_bucket(
    client, world, settings, proxies, separate_buckets
):
    """The per-IP lookup limit keys on the client IP: behind `TRUSTED_PROXY_COUNT=1` proxy two
    shoppers (two X-Forwarded-For addresses) each have their own bucket; without the setting the
    header is not trusted and every request is the proxy's."""
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.TRACK_LOOKUP_RATE_PER_IP = "3/m"
    from django.core.cache import cache

    cache.clear()
    form = {"order_number": "#404", "email": "nobody@example.com"}

    def lookup(address: str):
        return client.post("/track/", form, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address)

    statuses = [lookup("198.51.100.1").status_code for _ in range(4)]
    assert statuses[-1] == 429
    other = lookup("198.51.100.2").status_code
    assert (other != 429) is separate_buckets


def test_a_bad_host_or_an_oversized_body_logs_one_line(client, caplog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    with caplog.at_level(logging.WARNING):
        bad_host = client.get("/accounts/login/", HTTP_HOST="evil.example")
        too_big = client.post("/accounts/login/", {"username": "x" * 5000, "password": "y"})
    assert bad_host.status_code == 400
    assert too_big.status_code == 400
    security = [r for r in caplog.records if r.name.startswith("django.security")]
    assert {r.name for r in security} >= {
        "django.security.DisallowedHost",
        "django.security.RequestDataTooBig",
    }
    for record in security:
        assert record.exc_info is None
        assert "\n" not in record.getMessage()
    assert "Traceback" not in caplog.text


def test_sign_in_brute_force_is_throttled_on_both_sign_in_pages(settings):
    """After 10 failed sign-ins from one client, both sign-in pages answer 429 (JSON for JSON
    clients) and no password is checked (resync_site/tests/test_sign_in.py has the details)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_user("brute", store=make_store(slug="brute"))
    attacker = Client(REMOTE_ADDR="203.0.113.99")
    form = {"username": "brute", "password": "wrong"}
    statuses = [attacker.post("/accounts/login/", form).status_code for _ in range(11)]
    assert statuses[:9] == [200] * 9
    assert statuses[-1] == 429
    for path in ("/accounts/login/", "/admin/login/"):
        refused = attacker.post(path, form, **JSON)
        _check(refused, 429)
        assert refused.json()["retry_after"] >= 1
        assert int(refused["Retry-After"]) >= 1
