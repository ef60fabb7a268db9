"""Signing in and out (SPEC §10, issue #13): the throttle on /accounts/login/ and /admin/login/,
where a user without a store lands, and the sign-out page."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import redis
from django.contrib.auth.hashers import get_hasher
from django.core.cache.backends.redis import RedisCache

from shipments.tests.fixtures import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.7"
JSON = {"HTTP_ACCEPT": "application/json"}
WRONG = "not-the-password"
RIGHT = "pw-123456"  # make_user's


@pytest.fixture(autouse=True)
def quick_hashing(settings):
    """A cheap hasher keeps the many attempts fast; which hasher it is does not matter here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hashings(monkeypatch) -> list[str]:
    """Every password the hasher verifies or hashes during the test, by name of the operation."""
    hasher_class = type(get_hasher())
    calls: list[str] = []
    verify, encode = hasher_class.verify, hasher_class.encode

    def counted_verify(self, password, encoded):
        calls.append("verify")
        return verify(self, password, encoded)

    def counted_encode(self, password, salt, *args, **kwargs):
        calls.append("encode")
        return encode(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(hasher_class, "verify", counted_verify)
    monkeypatch.setattr(hasher_class, "encode", counted_encode)
    return calls


def attempt(client, username, password=WRONG, *, ip=ATTACKER, url=LOGIN, **extra):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def fail(client, times, username="demo", **kwargs) -> list[int]:
    return [attempt(client, username, **kwargs).status_code for _ in range(times)]


def test_ten_failures_for_a_username_then_429_with_a_page_that_says_why(client):
    make_user("demo")
    assert fail(client, 9) == [200] * 9  # "didn't match": the form again
    locked = attempt(client, "demo")  # the tenth failure locks
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "15 minutes" in page
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    # From then on even the right password is refused, from anywhere, until the window passes.
    assert attempt(client, "demo", RIGHT).status_code == 429
    assert attempt(client, "demo", RIGHT, ip=ELSEWHERE).status_code == 429


def test_a_locked_out_attempt_is_refused_before_any_password_is_hashed(client, hashings):
    make_user("demo")
    fail(client, 10)
    assert hashings  # the failures themselves were checked
    hashings.clear()
    for password in (RIGHT, WRONG):
        assert attempt(client, "demo", password).status_code == 429
    assert attempt(client, "nobody-by-that-name").status_code == 429  # the client is locked too
    assert hashings == []


def test_json_clients_get_json_with_retry_after(client):
    make_user("demo")
    fail(client, 10)
    response = attempt(client, "demo", RIGHT, **JSON)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "Too many failed sign-in attempts" in body["error"]
    assert 0 < body["retry_after"] <= 15 * 60
    assert response["Retry-After"] == str(body["retry_after"])


def test_a_locked_username_does_not_stop_other_users_from_other_clients(client):
    make_user("demo")
    make_user("alice")
    fail(client, 10, "demo", ip=ATTACKER)
    assert attempt(client, "demo", RIGHT, ip=ELSEWHERE).status_code == 429
    assert attempt(client, "alice", RIGHT, ip=ELSEWHERE).status_code == 302


def test_a_locked_client_is_locked_for_every_username(client):
    make_user("alice")
    for n in range(10):
        attempt(client, f"guess{n}")
    assert attempt(client, "alice", RIGHT).status_code == 429
    assert attempt(client, "alice", RIGHT, ip=ELSEWHERE).status_code == 302


def test_a_username_that_looks_like_an_address_does_not_lock_that_address(client):
    make_user("alice")
    fail(client, 10, ELSEWHERE, ip=ATTACKER)
    assert attempt(client, "alice", RIGHT, ip=ATTACKER).status_code == 429
    assert attempt(client, "alice", RIGHT, ip=ELSEWHERE).status_code == 302


def test_the_client_is_the_one_behind_the_trusted_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("alice")
    proxy = "10.0.0.2"
    for n in range(10):
        attempt(client, f"guess{n}", ip=proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert (
        attempt(client, "alice", RIGHT, ip=proxy, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    )
    response = attempt(client, "alice", RIGHT, ip=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert response.status_code == 302


def test_the_admin_sign_in_is_throttled_with_the_same_counters(client, hashings):
    make_user("ops", is_staff=True, is_superuser=True)
    assert fail(client, 5, "ops", url=ADMIN_LOGIN) == [200] * 5
    fail(client, 5, "ops", url=LOGIN, ip=ELSEWHERE)  # one username, counted across both forms
    hashings.clear()
    response = attempt(client, "ops", RIGHT, url=ADMIN_LOGIN, ip="192.0.2.1")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert hashings == []


def test_after_the_window_the_right_password_works_again(client, settings):
    settings.AXES_COOLOFF_TIME = dt.timedelta(seconds=2)
    make_user("demo")
    fail(client, 10)
    locked = attempt(client, "demo", RIGHT)
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 2
    time.sleep(2.2)
    assert attempt(client, "demo", RIGHT).status_code == 302


def test_refused_attempts_do_not_extend_the_lock(client, settings):
    settings.AXES_COOLOFF_TIME = dt.timedelta(seconds=2)
    make_user("demo")
    fail(client, 10)
    time.sleep(1.2)
    assert attempt(client, "demo").status_code == 429  # refused, and not counted
    time.sleep(1.0)
    assert attempt(client, "demo", RIGHT).status_code == 302


# --- Where a user lands -------------------------------------------------------------------------


def test_staff_without_a_store_land_in_the_admin(client):
    make_user("ops", is_staff=True, is_superuser=True)
    response = attempt(client, "ops", RIGHT)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/")["Location"] == "/admin/"


def test_staff_without_a_store_coming_from_a_merchant_page_land_in_the_admin(client):
    make_user("ops", is_staff=True)
    response = attempt(client, "ops", RIGHT, url=f"{LOGIN}?next=/app/shipments/")
    assert response["Location"] == "/admin/"


def test_a_user_without_any_store_gets_a_friendly_page(client):
    make_user("newcomer")
    response = attempt(client, "newcomer", RIGHT, url=f"{LOGIN}?next=/app/shipments/")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "You are not part of a store yet" in text
    assert 'action="/accounts/logout/"' in text
    assert client.get("/")["Location"] == response["Location"]


def test_members_still_land_on_their_shipments(client, store):
    make_user("alice", store=store)
    assert attempt(client, "alice", RIGHT)["Location"] == "/app/shipments/"
    assert client.get("/accounts/no-store/")["Location"] == "/app/shipments/"


# --- Signing out ----------------------------------------------------------------------------------


def test_get_sign_out_shows_a_button_that_posts_with_csrf(client, store):
    client.force_login(make_user("alice", store=store))
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post" action="/accounts/logout/">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'type="submit" class="button primary">Sign out</button>' in page
    assert 'href="/static/css/app.css"' in page or "app." in page  # the site's own styles
    # The button's POST signs out.
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/app/shipments/").status_code == 302


def test_get_sign_out_when_signed_out_offers_to_sign_in(client):
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    assert 'href="/accounts/login/"' in response.content.decode()


def test_without_redis_signing_in_still_works_unthrottled(client, monkeypatch, caplog):
    make_user("demo")

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down (test)")

    for method in ("get", "add", "incr", "touch"):
        monkeypatch.setattr(RedisCache, method, down)
    assert fail(client, 11) == [200] * 11  # nothing counted, nothing locked, no 500
    assert attempt(client, "demo", RIGHT).status_code == 302
    assert "Redis does not answer" in caplog.text
