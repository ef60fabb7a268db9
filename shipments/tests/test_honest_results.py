"""Honest results (docs/contract.md §7): `changed` only when the status or the events changed,
"nothing new since …" otherwise, a failed pull keeps the old data and says when it was last
good, and a shopper never reads a carrier's text, the merchant's reason or someone else's result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from shipments import services
from shipments.carriers.base import (
    BatchOutcome,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status
from shipments.messages import SHOPPER_FAILED, SHOPPER_UPDATED, SUCCESS_MESSAGE
from shipments.models import ResyncJob, Shipment
from shipments.services import jobs

from .fixtures import make_shipment, make_store, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCAN = dt.datetime(2026, 11, 20, 14, 5, tzinfo=dt.UTC)  # 09:05 in New York


def _answer(monkeypatch, outcome: BatchOutcome) -> None:
    monkeypatch.setattr(jobs, "fetch", lambda carrier, numbers: outcome)


def _result(shipment: Shipment, *events: TrackingEventData, status=Status.IN_TRANSIT):
    return BatchOutcome(
        results={
            shipment.tracking_number: TrackingResult(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                status=status,
                events=events,
            )
        }
    )


def _run(shipment: Shipment, source: str = "merchant") -> ResyncJob:
    job = ResyncJob.objects.create(shipment=shipment, source=source)
    services.resync_job_execute(job_id=str(job.pk))
    return ResyncJob.objects.get(pk=job.pk)


@pytest.fixture
def shipment(published) -> Shipment:
    store = make_store(slug="honest", name="Honest", time_zone="America/New_York")
    return make_shipment(store, carrier="ups")


def test_news_says_the_success_sentence_and_nothing_new_says_since_when(shipment, monkeypatch):
    scan = TrackingEventData(SCAN, Status.IN_TRANSIT, "Departed facility")
    _answer(monkeypatch, _result(shipment, scan))
    first = _run(shipment)
    assert (first.state, first.changed) == ("succeeded", True)
    assert first.message == str(SUCCESS_MESSAGE)

    second = _run(shipment)  # the carrier says the same again
    assert (second.state, second.changed) == ("succeeded", False)
    assert second.message == "Nothing new from the carrier since 20 Nov 2026, 09:05."


def test_an_estimate_moving_is_not_news_but_is_written(shipment, monkeypatch):
    scan = TrackingEventData(SCAN, Status.IN_TRANSIT, "Departed facility")
    _answer(monkeypatch, _result(shipment, scan))
    _run(shipment)
    later = _result(shipment, scan)
    result = later.results[shipment.tracking_number]
    later.results[shipment.tracking_number] = dataclasses.replace(
        result, estimated_delivery=SCAN + dt.timedelta(days=3)
    )
    _answer(monkeypatch, later)
    job = _run(shipment)
    assert job.changed is False
    assert Shipment.objects.get(pk=shipment.pk).estimated_delivery == SCAN + dt.timedelta(days=3)


def test_a_failed_pull_keeps_the_last_good_time_and_says_why(shipment, monkeypatch):
    _answer(monkeypatch, _result(shipment, TrackingEventData(SCAN, Status.IN_TRANSIT, "Scan")))
    _run(shipment)
    good = Shipment.objects.get(pk=shipment.pk)
    assert good.last_success_at is not None

    error = TrackingNumberNotFound("unknown number")
    _answer(monkeypatch, BatchOutcome(errors={shipment.tracking_number: error}))
    job = _run(shipment)
    assert job.state == "failed"
    assert job.message == "The carrier does not know this tracking number (yet)."
    failed = Shipment.objects.get(pk=shipment.pk)
    assert failed.last_synced_at > good.last_synced_at  # tried
    assert failed.last_success_at == good.last_success_at  # but shown as of then
    assert failed.last_updated_at == good.last_success_at
    assert failed.status == "in_transit"  # the old data stays


def test_the_merchant_details_say_last_successful_update(shipment, monkeypatch, client):
    client.force_login(make_user("honest-merchant", store=shipment.store))
    Shipment.objects.filter(pk=shipment.pk).update(
        last_success_at=timezone.now() - dt.timedelta(hours=3),
        last_synced_at=timezone.now(),
        last_sync_outcome="error",
        last_sync_error="The carrier could not be reached; please try again later.",
    )
    page = client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    assert "Last successful update" in page
    assert "3\xa0hours ago" in page
    assert "what is shown is from the last successful update" in page


def test_a_shopper_never_reads_the_carriers_or_the_merchants_failure(shipment, client):
    job = ResyncJob.objects.create(
        shipment=shipment,
        source="merchant",
        state="failed",
        message="The carrier refused our access credentials; our team has been alerted.",
        finished_at=timezone.now(),
    )
    url = f"/track/{shipment.public_token}/resync/{job.pk}/"
    body = client.get(url, HTTP_ACCEPT="application/json").json()
    assert body["message"] == str(SHOPPER_FAILED)
    assert "credentials" not in client.get(url).content.decode()


def test_two_shoppers_on_one_shipment_each_see_only_their_own_result(shipment, client, settings):
    settings.RATELIMIT_ENABLE = False
    page = f"/track/{shipment.public_token}/"
    ann, bob = client, Client()
    started = ann.post(f"{page}resync/", HTTP_ACCEPT="application/json")
    assert started.status_code == 202
    ResyncJob.objects.filter(pk=started.json()["job"]).update(
        state="succeeded", message=str(SUCCESS_MESSAGE), changed=True, finished_at=timezone.now()
    )

    # Ann reads the shopper's words for it; Bob, who did not press Resync, reads nothing.
    def status_region(response) -> str:
        html = response.content.decode()
        return re.search(r"data-resync-status[^>]*>(.*?)</div>", html, re.S).group(1)

    assert status_region(ann.get(page)) == escape(str(SHOPPER_UPDATED))
    assert status_region(bob.get(page)) == ""
    assert str(SUCCESS_MESSAGE) not in bob.get(page).content.decode()
