"""API keys: the service, `manage.py api_key create`, the merchant's page (scoped, the key shown
once and stored only hashed), revoking, and the admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from connect import services
from connect.models import ApiKey
from shipments.tests.fixtures import make_user

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
KEY_RE = re.compile(r"rsk_[A-Za-z0-9_-]{43}")


def test_a_key_is_256_random_bits_with_a_prefix_and_only_its_hash_is_kept(store):
    key, raw = services.api_key_create(store=store, name="  ERP  system ")
    assert KEY_RE.fullmatch(raw)
    assert key.name == "ERP system"
    assert key.prefix == raw[:12]
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = ApiKey.objects.values_list(*[f.attname for f in ApiKey._meta.fields])
    assert all(raw not in str(value) for row in stored for value in row)
    other_key, other_raw = services.api_key_create(store=store)
    assert other_raw != raw
    assert other_key.name == "API key"


def test_authenticate_finds_active_keys_only(store):
    key, raw = services.api_key_create(store=store, name="ERP")
    assert services.api_key_authenticate(raw_key=raw) == key
    for wrong in ("", "rsk_", raw[:-1], raw + "x", "Bearer " + raw, "x" * 10_000):
        assert services.api_key_authenticate(raw_key=wrong) is None
    services.api_key_revoke(store=store, key_id=key.pk)
    assert services.api_key_authenticate(raw_key=raw) is None


def test_last_used_is_written_at_most_once_a_minute(store, django_assert_num_queries):
    key, raw = services.api_key_create(store=store, name="ERP")
    now = timezone.now()
    with django_assert_num_queries(2):  # read, then note the first use
        services.api_key_authenticate(raw_key=raw, now=now)
    with django_assert_num_queries(1):  # read only
        services.api_key_authenticate(raw_key=raw, now=now + dt.timedelta(seconds=59))
    key.refresh_from_db()
    assert key.last_used_at == now
    later = now + dt.timedelta(seconds=61)
    services.api_key_authenticate(raw_key=raw, now=later)
    key.refresh_from_db()
    assert key.last_used_at == later


def test_revoke_only_the_stores_own_keys(store, other_store):
    key, _raw = services.api_key_create(store=store, name="ERP")
    assert services.api_key_revoke(store=other_store, key_id=key.pk) is None
    key.refresh_from_db()
    assert key.revoked_at is None
    revoked = services.api_key_revoke(store=store, key_id=key.pk)
    assert revoked.revoked_at is not None
    again = services.api_key_revoke(store=store, key_id=key.pk)
    assert again.revoked_at == revoked.revoked_at


# --- The command --------------------------------------------------------------------------------


def test_the_command_prints_the_key_last_and_it_works(client, store, shipment):
    out = io.StringIO()
    call_command("api_key", "create", "--store", store.slug, "--name", "Warehouse", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert KEY_RE.fullmatch(raw)
    key = ApiKey.objects.get()
    assert (key.store, key.name, key.prefix) == (store, "Warehouse", raw[:12])
    response = ApiClient(client, raw).get("/api/v1/shipments/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [shipment.pk]


def test_the_command_refuses_an_unknown_store(db):
    with pytest.raises(CommandError, match="no store"):
        call_command("api_key", "create", "--store", "nope", stdout=io.StringIO())
    assert not ApiKey.objects.exists()


# --- The merchant's page --------------------------------------------------------------------------


URL = "/app/settings/api-keys/"


def test_the_page_needs_a_signed_in_merchant(client, store):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post(URL, {"name": "ERP"}).status_code == 302
    assert not ApiKey.objects.exists()


def test_create_shows_the_key_once_and_it_works(merchant_client, store, merchant, shipment):
    response = merchant_client.post(URL, {"name": "ERP"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    raw = KEY_RE.search(html).group(0)
    assert "Copy it now: it is not shown again." in html
    key = ApiKey.objects.get()
    assert (key.store, key.name, key.created_by) == (store, "ERP", merchant)
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    # Listed by name and prefix; the key itself is never shown again.
    listing = merchant_client.get(URL).content.decode()
    assert "ERP" in listing
    assert f"{key.prefix}…" in listing
    assert raw not in listing
    assert "Never" in listing  # not used yet
    assert ApiClient(merchant_client, raw).get("/api/v1/shipments/").status_code == 200
    assert "Never" not in merchant_client.get(URL).content.decode()


def test_create_and_list_as_json(merchant_client, store):
    created = merchant_client.post(URL, {"name": "ERP"}, **JSON)
    assert created.status_code == 201
    data = created.json()
    assert KEY_RE.fullmatch(data["key"])
    assert data["prefix"] == data["key"][:12]
    assert data["active"] is True
    listed = merchant_client.get(URL, **JSON).json()["results"]
    assert [(k["id"], k["name"], k["prefix"]) for k in listed] == [
        (data["id"], "ERP", data["prefix"])
    ]
    assert "key" not in listed[0]
    assert set(listed[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
        "active",
    }


def test_an_over_long_name_is_refused(merchant_client):
    response = merchant_client.post(URL, {"name": "x" * 101})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    data = merchant_client.post(URL, {"name": "x" * 101}, **JSON).json()
    assert "name" in data["fields"]
    assert not ApiKey.objects.exists()


def test_revoke_then_the_key_is_refused(merchant_client, store):
    key, raw = services.api_key_create(store=store, name="ERP")
    api = ApiClient(merchant_client, raw)
    assert api.get("/api/v1/shipments/").status_code == 200
    response = merchant_client.post(f"{URL}{key.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == URL
    page = merchant_client.get(URL).content.decode()
    assert "is revoked" in page
    assert "Revoked" in page
    assert f'action="{URL}{key.pk}/revoke/"' not in page
    assert api.get("/api/v1/shipments/").status_code == 401


def test_the_page_is_scoped_to_the_merchants_store(merchant_client, store, other_store):
    theirs, their_raw = services.api_key_create(store=other_store, name="Their ERP")
    mine, _raw = services.api_key_create(store=store, name="My ERP")
    page = merchant_client.get(URL).content.decode()
    assert "My ERP" in page
    assert "Their ERP" not in page
    assert [k["id"] for k in merchant_client.get(URL, **JSON).json()["results"]] == [mine.pk]
    assert merchant_client.post(f"{URL}{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # A key created here belongs to the merchant's store only.
    merchant_client.post(URL, {"name": "New"})
    assert ApiKey.objects.get(name="New").store == store


def test_a_merchant_of_two_stores_manages_the_current_ones_keys(client, store, other_store):
    user = make_user("two-stores", store=store)
    other_store.memberships.create(user=user, role="owner")
    client.force_login(user)
    client.post("/app/stores/switch/", {"store": other_store.pk})
    client.post(URL, {"name": "For other"})
    assert ApiKey.objects.get().store == other_store


def test_the_nav_links_the_page(merchant_client):
    html = merchant_client.get("/app/shipments/").content.decode()
    assert f'href="{URL}"' in html
    page = merchant_client.get(URL).content.decode()
    assert f'href="{URL}" aria-current="page"' in page


def test_the_admin_shows_keys_read_only(client, store):
    key, raw = services.api_key_create(store=store, name="ERP")
    admin = make_user("ops", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/connect/apikey/")
    assert listing.status_code == 200
    assert key.prefix in listing.content.decode()
    change = client.get(f"/admin/connect/apikey/{key.pk}/change/").content.decode()
    assert 'name="key_hash"' not in change
    assert raw not in change
    assert client.get("/admin/connect/apikey/add/").status_code == 403


def test_the_raw_key_is_never_logged(client, store, settings, caplog):
    settings.DEBUG = True  # ninja logs unexpected Authorization headers in DEBUG
    caplog.set_level("DEBUG")
    out = io.StringIO()
    call_command("api_key", "create", "--store", store.slug, stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    for header in (f"Bearer {raw}", f"Token {raw}", raw, f"Bearer {raw}x"):
        client.get("/api/v1/shipments/", headers={"Authorization": header})
    key = ApiKey.objects.get()
    services.api_key_revoke(store=store, key_id=key.pk)
    client.get("/api/v1/shipments/", headers={"Authorization": f"Bearer {raw}"})
    assert raw[len(key.prefix) :] not in caplog.text
