"""The schedule of shipments that receive carrier pushes: a daily safety pull while pushes come,
the normal schedule by status once they stop."""

from __future__ import annotations

import datetime as dt

import pytest

from shipments.services.pulls import NEXT_SYNC_AFTER, next_sync_at

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def test_without_pushes_the_schedule_is_by_status():
    due = next_sync_at("in_transit", NOW)
    assert (
        NOW + NEXT_SYNC_AFTER["in_transit"] * 0.9
        <= due
        <= NOW + NEXT_SYNC_AFTER["in_transit"] * 1.1
    )
    assert next_sync_at("delivered", NOW, NOW) is None


def test_a_recent_push_means_a_daily_safety_pull(settings):
    settings.CARRIER_PUSH_SAFETY_PULL_HOURS = 24
    settings.CARRIER_PUSH_QUIET_HOURS = 48
    due = next_sync_at("out_for_delivery", NOW, NOW - dt.timedelta(minutes=5))
    assert NOW + dt.timedelta(hours=21) <= due <= NOW + dt.timedelta(hours=24)


def test_the_safety_pull_comes_no_later_than_when_pushes_count_as_stopped(settings):
    settings.CARRIER_PUSH_SAFETY_PULL_HOURS = 24
    settings.CARRIER_PUSH_QUIET_HOURS = 48
    seen = NOW - dt.timedelta(hours=40)
    assert next_sync_at("in_transit", NOW, seen) == seen + dt.timedelta(hours=48)


def test_no_push_for_the_quiet_hours_falls_back_to_the_normal_schedule(settings):
    settings.CARRIER_PUSH_QUIET_HOURS = 48
    due = next_sync_at("in_transit", NOW, NOW - dt.timedelta(hours=49))
    assert due <= NOW + NEXT_SYNC_AFTER["in_transit"] * 1.1


@pytest.mark.django_db
def test_a_safety_pull_keeps_a_pushed_shipment_on_the_daily_schedule():
    from django.utils import timezone

    from shipments.carriers.base import TrackingResult
    from shipments.carriers.statuses import Status
    from shipments.services import shipments_apply_results
    from shipments.tests.fixtures import make_shipment, make_store

    now = timezone.now()
    pushed = make_shipment(make_store(), carrier="17track", push_seen_at=now)
    polled = make_shipment(make_store(), carrier="17track")
    results = {
        s.tracking_number: TrackingResult(
            carrier="17track", tracking_number=s.tracking_number, status=Status.IN_TRANSIT
        )
        for s in (pushed, polled)
    }
    shipments_apply_results(shipments=[pushed, polled], results=results, now=now)
    pushed.refresh_from_db()
    polled.refresh_from_db()
    assert pushed.next_sync_at > now + dt.timedelta(hours=20)
    assert polled.next_sync_at < now + dt.timedelta(hours=4)
    assert pushed.push_seen_at == now  # a pull does not count as a push
