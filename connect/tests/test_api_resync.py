"""The merchant API's resyncs (the merchant app's answers, cooldowns and audit, source `api`),
their status URLs, the per-key rate limit, and the OpenAPI schema and docs page."""

from __future__ import annotations

import re
import time

import pytest
from django.test.utils import override_settings

from connect import services
from connect.api.ratelimit import rate_key
from shipments import cooldowns
from shipments import services as shipment_services
from shipments.carriers.numbers import example_number
from shipments.models import ResyncJob, ResyncRequest, RunState, SyncRun
from shipments.redis_client import _client, get_redis
from shipments.tests.fixtures import make_shipment

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def redis_down():
    _client.cache_clear()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        yield
    _client.cache_clear()


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.content
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    error = response.json()["error"]
    assert error["retry_after"] == retry_after
    assert error["message"]
    return error


# --- Single resync --------------------------------------------------------------------------------


def test_single_resync_202_then_429_and_the_job_status(
    api, shipment, published, django_capture_on_commit_callbacks
):
    url = f"/api/v1/shipments/{shipment.pk}/resync/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 202
    job = ResyncJob.objects.get()
    assert response.json() == {
        "job": str(job.pk),
        "state": "queued",
        "status_url": f"/api/v1/jobs/{job.pk}/",
        "retry_after": 300,
    }
    assert published == [("shipments.tasks.resync_job_execute", (str(job.pk),), "interactive")]
    status = api.get(response.json()["status_url"])
    assert status.json() == {"state": "queued", "message": "", "changed": None}
    ResyncJob.objects.filter(pk=job.pk).update(state="succeeded", message="Done.", changed=True)
    assert api.get(f"/api/v1/jobs/{job.pk}/").json() == {
        "state": "succeeded",
        "message": "Done.",
        "changed": True,
    }
    assert api.get(f"/api/v1/jobs/{job.pk}/", key="").status_code == 401

    error = _refused(api.post(url), 429)
    assert error["code"] == "cooldown"
    assert 295 <= error["retry_after"] <= 300
    assert re.fullmatch(r"You can resync again in (4 min \d+ s|5 min 0 s)\.", error["message"])
    assert 295 <= api.get(f"/api/v1/shipments/{shipment.pk}/").json()["retry_after"] <= 300
    audit = list(ResyncRequest.objects.order_by("pk").values_list("source", "accepted", "kind"))
    assert audit == [("api", True, "single"), ("api", False, "single")]
    assert ResyncJob.objects.get().source == "api"


def test_single_cooldown_is_shared_with_the_merchant_app(api, merchant_client, store, published):
    first, second = make_shipment(store), make_shipment(store)
    assert merchant_client.post(f"/app/shipments/{first.pk}/resync/", **JSON).status_code == 202
    _refused(api.post(f"/api/v1/shipments/{first.pk}/resync/"), 429)
    assert api.post(f"/api/v1/shipments/{second.pk}/resync/").status_code == 202
    refused = merchant_client.post(f"/app/shipments/{second.pk}/resync/", **JSON)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1


def test_single_resync_redis_down_is_503(api, shipment, redis_down):
    error = _refused(api.post(f"/api/v1/shipments/{shipment.pk}/resync/"), 503)
    assert error["code"] == "unavailable"
    assert not ResyncJob.objects.exists()
    assert ResyncRequest.objects.get().refused_reason == "unavailable"
    # Reads still answer without Redis (the limit is not enforced then).
    assert api.get(f"/api/v1/shipments/{shipment.pk}/").json()["retry_after"] == 0


# --- Bulk resync ----------------------------------------------------------------------------------


def test_bulk_resync_202_then_429_and_the_run_status(
    api, store, published, django_capture_on_commit_callbacks
):
    make_shipment(store)
    make_shipment(store)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/shipments/resync/", {"window": "7d"})
    assert response.status_code == 202
    run = SyncRun.objects.get()
    assert response.json() == {
        "run": run.pk,
        "state": "queued",
        "total": 2,
        "status_url": f"/api/v1/sync-runs/{run.pk}/",
        "retry_after": 3600,
    }
    assert (run.source, run.window) == ("api", "7d")
    assert published == [("shipments.tasks.sync_run_dispatch", (run.pk,), "bulk")]
    status = api.get(response.json()["status_url"]).json()
    assert {k: status[k] for k in ("state", "window", "total", "done", "changed")} == {
        "state": "queued",
        "window": "7d",
        "total": 2,
        "done": 0,
        "changed": 0,
    }
    for name in ("unchanged", "failed", "started_at", "finished_at"):
        assert name in status
    assert status["status_url"] == f"/api/v1/sync-runs/{run.pk}/"

    in_progress = _refused(api.post("/api/v1/shipments/resync/", {"window": "30d"}), 429)
    assert in_progress["code"] == "in_progress"
    SyncRun.objects.update(state=RunState.COMPLETED)
    cooldowns.release_bulk_run(store.pk, run.pk)
    cooling = _refused(api.post("/api/v1/shipments/resync/", {"window": "30d"}), 429)
    assert cooling["code"] == "cooldown"
    assert 3590 <= cooling["retry_after"] <= 3600
    audit = ResyncRequest.objects.filter(kind="bulk", source="api")
    assert list(audit.order_by("pk").values_list("accepted", flat=True)) == [True, False, False]
    assert SyncRun.objects.count() == 1


def test_bulk_cooldown_is_shared_with_the_merchant_app(api, merchant_client, store, published):
    assert (
        merchant_client.post("/app/shipments/resync/", {"window": "7d"}, **JSON).status_code == 202
    )
    _refused(api.post("/api/v1/shipments/resync/", {"window": "today"}), 429)
    shipment_services.store_clear_bulk_cooldown(store=store)
    SyncRun.objects.update(state=RunState.COMPLETED)
    cooldowns.release_bulk_run(store.pk, SyncRun.objects.get().pk)
    assert api.post("/api/v1/shipments/resync/", {"window": "today"}).status_code == 202
    refused = merchant_client.post("/app/shipments/resync/", {"window": "7d"}, **JSON)
    assert refused.status_code == 429


@pytest.mark.parametrize("body", [{"window": "90d"}, {"window": ""}, {"window": 7}, {}, "[1]"])
def test_bad_window_is_400_before_redis_down_and_cooldown(api, store, body, redis_down):
    url = "/api/v1/shipments/resync/"
    response = api.post(url, raw=body) if isinstance(body, str) else api.post(url, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("validation_error", "bad_request")
    assert not SyncRun.objects.exists()


def test_bad_window_is_400_while_cooling_down(api, store, published):
    assert api.post("/api/v1/shipments/resync/", {"window": "7d"}).status_code == 202
    error = api.post("/api/v1/shipments/resync/", {"window": "1y"}).json()["error"]
    assert (error["code"], list(error["fields"])) == ("validation_error", ["window"])


def test_bulk_resync_redis_down_is_503(api, store, redis_down):
    make_shipment(store)
    error = _refused(api.post("/api/v1/shipments/resync/", {"window": "7d"}), 503)
    assert error["code"] == "unavailable"
    assert not SyncRun.objects.exists()


def test_another_stores_run_is_404(api, other_store):
    run = SyncRun.objects.create(store=other_store, window="7d", source="merchant")
    assert api.get(f"/api/v1/sync-runs/{run.pk}/").status_code == 404


# --- Rate limit -----------------------------------------------------------------------------------


def test_requests_past_the_rate_limit_are_429_per_key(client, store, settings):
    settings.API_RATE_LIMIT_PER_SECOND = 3
    _key, raw = services.api_key_create(store=store, name="A")
    other_key, other_raw = services.api_key_create(store=store, name="B")
    api = ApiClient(client, raw)
    codes = [api.get("/api/v1/shipments/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/shipments/")
    error = _refused(response, 429)
    assert (error["code"], error["retry_after"]) == ("rate_limited", 1)
    # Another key has its own budget; refused requests were not counted.
    assert api.get("/api/v1/shipments/", key=other_raw).status_code == 200
    assert get_redis().zcard(rate_key(other_key.pk)) == 1
    time.sleep(1.05)
    assert api.get("/api/v1/shipments/").status_code == 200
    assert get_redis().pttl(rate_key(_key.pk)) <= 1000


def test_the_default_rate_limit_is_10_a_second():
    from resync_site import settings as project_settings

    assert project_settings.API_RATE_LIMIT_PER_SECOND == 10


def test_a_wrong_key_is_401_not_rate_limited(client, store, settings):
    settings.API_RATE_LIMIT_PER_SECOND = 1
    api = ApiClient(client, "rsk_wrong")
    assert [api.get("/api/v1/shipments/").status_code for _ in range(3)] == [401, 401, 401]


# --- Schema and docs ------------------------------------------------------------------------------


def test_openapi_json_is_openapi_3_and_lists_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Resync Merchant API"
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/shipments/",
        "/api/v1/shipments/{shipment_id}/",
        "/api/v1/shipments/{shipment_id}/resync/",
        "/api/v1/shipments/{shipment_id}/carrier/",
        "/api/v1/shipments/resync/",
        "/api/v1/jobs/{job_id}/",
        "/api/v1/sync-runs/{run_id}/",
    }
    assert set(paths["/api/v1/shipments/"]) == {"get", "post"}
    assert {"200", "201", "400", "401"} <= set(paths["/api/v1/shipments/"]["post"]["responses"])
    assert "202" in paths["/api/v1/shipments/resync/"]["post"]["responses"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s == {"type": "http", "scheme": "bearer"} for s in schemes.values())
    params = {p["name"] for p in paths["/api/v1/shipments/"]["get"]["parameters"]}
    assert params == {"status", "carrier", "q", "updated_since", "page", "page_size"}


def test_the_docs_page(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.content.decode()
    index = client.get("/api/v1/").json()
    assert index["docs"].endswith("/api/v1/docs")


def test_api_carrier_correction(api, store, published):
    from shipments.models import ResyncRequest
    from shipments.tests.fixtures import make_shipment

    shipment = make_shipment(store, carrier=None, tracking_number="WRONG-1")
    number = example_number("ups", 31)
    response = api.post(
        f"/api/v1/shipments/{shipment.pk}/carrier/",
        {"carrier": "ups", "tracking_number": number},
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status_url"] == f"/api/v1/jobs/{body['job']}/"
    assert api.get(body["status_url"]).status_code == 200
    shipment.refresh_from_db()
    assert (shipment.carrier, shipment.tracking_number) == ("ups", number)
    assert ResyncRequest.objects.get(source="correction").detail.endswith(f"ups {number}")
    details = api.get(f"/api/v1/shipments/{shipment.pk}/").json()
    assert details["carrier_suggestions"] == ["ups"]
    assert details["carrier_change_url"] == f"/api/v1/shipments/{shipment.pk}/carrier/"

    bad = api.post(f"/api/v1/shipments/{shipment.pk}/carrier/", {"carrier": "pigeon"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"carrier"}
    assert api.post("/api/v1/shipments/999999/carrier/", {"carrier": "ups"}).status_code == 404
