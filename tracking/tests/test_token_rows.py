"""The resync's one-row read by token (tracking/token_rows.py): the shipment and its store as the
ORM would load them with `.only()`, in one query, never a cancelled shipment's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipments.models import Shipment
from tracking.token_rows import shipment_ref_for_token

pytestmark = pytest.mark.django_db


def test_what_a_resync_reads_is_one_query_and_the_rest_loads_on_access(tracked, shop):
    when = timezone.now() - dt.timedelta(hours=3)
    Shipment.objects.filter(pk=tracked.pk).update(last_event_at=when)
    shop.time_zone, shop.default_language = "Europe/Berlin", "de"
    shop.save()
    with CaptureQueriesContext(connection) as queries:
        ref = shipment_ref_for_token(tracked.public_token)
        assert ref is not None
        seen = (
            ref.pk,
            ref.store_id,
            ref.order_id,
            ref.public_token,
            ref.last_event_at,
            ref.store.pk,
            ref.store.time_zone,
            ref.store.default_language,
        )
    assert len(queries.captured_queries) == 1
    assert seen == (
        tracked.pk,
        shop.pk,
        tracked.order_id,
        tracked.public_token,
        when,
        shop.pk,
        "Europe/Berlin",
        "de",
    )
    assert ref.last_event_at.tzinfo is not None
    # Anything else is there too, read when asked for (as `.only()` does).
    with CaptureQueriesContext(connection) as queries:
        assert (ref.tracking_number, ref.store.name) == (tracked.tracking_number, shop.name)
    assert len(queries.captured_queries) == 2
    assert ref.get_tracking_url() == tracked.get_tracking_url()


def test_a_shipment_without_scans_yet_has_no_latest_event_time(tracked):
    Shipment.objects.filter(pk=tracked.pk).update(last_event_at=None)
    ref = shipment_ref_for_token(tracked.public_token)
    assert ref is not None
    assert ref.last_event_at is None


def test_no_ref_for_a_cancelled_shipment_or_a_token_that_is_not_one(tracked):
    with CaptureQueriesContext(connection) as queries:
        assert shipment_ref_for_token("not a token!") is None
        assert shipment_ref_for_token("A" * 32) is None
    assert len(queries.captured_queries) == 1  # the malformed one asked nothing
    Shipment.objects.filter(pk=tracked.pk).update(cancelled_at=timezone.now())
    assert shipment_ref_for_token(tracked.public_token) is None
