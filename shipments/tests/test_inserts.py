"""Rows that belong together (a shopper's resync: the job and its audit row) are written together
or not at all, in one statement on PostgreSQL (shipments/inserts.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from shipments.inserts import insert_together
from shipments.models import ResyncJob, ResyncRequest

POSTGRES = connection.vendor == "postgresql"


def _pair(shipment, **audit):
    job = ResyncJob(shipment=shipment, source="shopper")
    fields = {
        "store_id": shipment.store_id,
        "kind": "single",
        "source": "shopper",
        "shipment": shipment,
        "ip_address": "203.0.113.5",
        "accepted": True,
        "retry_after": 300,
        "job": job,
        **audit,
    }
    return job, ResyncRequest(**fields)


@pytest.mark.django_db(transaction=True)
def test_the_job_and_its_audit_row_are_written_together(shipment):
    job, audit = _pair(shipment)
    with CaptureQueriesContext(connection) as queries:
        insert_together(job, audit)
    if POSTGRES:
        # One round trip: no BEGIN, no COMMIT, one statement.
        assert [q["sql"].split()[0] for q in queries.captured_queries] == ["WITH"]
    stored = ResyncRequest.objects.select_related("job").get()
    assert stored.pk == audit.pk
    assert stored.job == job
    assert (stored.ip_address, stored.retry_after, stored.job.state) == (
        "203.0.113.5",
        300,
        ResyncJob.State.QUEUED,
    )
    assert stored.job.created_at is not None
    assert stored.created_at is not None
    assert not job._state.adding
    assert not audit._state.adding
    # Saved instances behave as saved ones: an update is an UPDATE, not a second row.
    job.state = ResyncJob.State.RUNNING
    job.save()
    assert ResyncJob.objects.get().state == ResyncJob.State.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_refused_row_takes_the_others_with_it(shipment):
    job, audit = _pair(shipment, request_count=0)  # breaks the audit's check constraint
    with pytest.raises(IntegrityError):
        insert_together(job, audit)
    assert not ResyncJob.objects.exists()
    assert not ResyncRequest.objects.exists()


@pytest.mark.django_db
def test_inside_a_transaction_too(shipment):
    job, audit = _pair(shipment)
    insert_together(job, audit)
    assert ResyncRequest.objects.get().job_id == job.pk


@pytest.mark.django_db
def test_a_value_the_orm_must_compile_goes_the_orms_way(shipment):
    job, audit = _pair(shipment, detail=Value("from an expression"))
    insert_together(job, audit)
    assert ResyncRequest.objects.get().detail == "from an expression"
    assert ResyncJob.objects.get().pk == job.pk
