"""Services: the only way anything writes resyncs, runs, events and the audit.

Views, admin actions, management commands and Celery tasks parse their input and call one of
these. One module per sub-domain:

- `single`: a single-shipment resync request (shared cooldown, audit, job);
- `bulk`: a store's bulk resync request (window, hourly cooldown, run);
- `runs`: planning a run into carrier chunks and pulling a chunk, counted exactly once;
- `jobs`: the worker's half of a single resync;
- `pulls`: asking a carrier and writing what it says;
- `pushes`: what a carrier pushes (webhooks), written by the same writer as a pull;
- `schedule`: expiry, scheduled pulls, and resuming what stalled;
- `intake`: which carrier a shop's name means, and the store's own names;
- `ingest`: shipments coming in (webhooks, API, CSV): created or updated, pulled once at once;
- `first_pulls`: those first pulls gathered into carrier batches;
- `delivery_rules`: the store's rule for estimated deliveries;
- `corrections`: a shipment pointed at another tracking number or carrier;
- `enqueue`: every task publication; `verdicts`: the answer to a request and its audit row;
- `refusals`: anonymous shoppers' refusals, counted in Redis and written once a minute.
"""

from .bulk import store_bulk_resync, store_clear_bulk_cooldown, store_window_queryset
from .corrections import (
    MAX_BULK_CORRECTION,
    BadCorrection,
    TrackingNumberTaken,
    shipment_correct,
    shipment_retrack,
    shipments_set_carrier,
)
from .delivery_rules import store_delivery_rule_set
from .first_pulls import first_pulls_request, first_pulls_take
from .ingest import Incoming, IngestResult, shipments_cancel, shipments_ingest
from .intake import (
    CarrierMatch,
    carrier_resolve,
    store_carrier_mapping_delete,
    store_carrier_mapping_set,
)
from .jobs import JOB_MAX_ATTEMPTS, resync_job_execute
from .pulls import (
    UnsupportedCarrier,
    fetch,
    next_sync_at,
    retry_delay,
    shipments_apply_results,
    shipments_mark_failed,
)
from .pushes import (
    PushOutcome,
    shipments_apply_push,
    shipments_for_push,
    shipments_push_stopped,
)
from .refusals import counted_refusal, refusal_record, resync_refusals_flush
from .runs import (
    ChunkPlan,
    chunk_by_carrier,
    chunk_size,
    sync_chunk,
    sync_run_dispatch,
    sync_run_fail,
)
from .schedule import (
    SCHEDULE_LOCK_KEY,
    resync_jobs_stalled,
    shipments_expire_stale,
    shipments_sync_due,
    shipments_take_due,
    sync_run_pending_chunks,
    sync_runs_reconcile,
    sync_runs_stalled,
)
from .single import shipment_clear_cooldown, shipment_resync
from .verdicts import ResyncVerdict

__all__ = [
    "PushOutcome",
    "shipments_apply_push",
    "shipments_for_push",
    "shipments_push_stopped",
    "JOB_MAX_ATTEMPTS",
    "MAX_BULK_CORRECTION",
    "SCHEDULE_LOCK_KEY",
    "BadCorrection",
    "CarrierMatch",
    "ChunkPlan",
    "Incoming",
    "IngestResult",
    "ResyncVerdict",
    "TrackingNumberTaken",
    "UnsupportedCarrier",
    "carrier_resolve",
    "counted_refusal",
    "chunk_by_carrier",
    "chunk_size",
    "fetch",
    "first_pulls_request",
    "first_pulls_take",
    "next_sync_at",
    "resync_job_execute",
    "refusal_record",
    "resync_jobs_stalled",
    "resync_refusals_flush",
    "retry_delay",
    "shipment_clear_cooldown",
    "shipment_correct",
    "shipment_resync",
    "shipment_retrack",
    "shipments_apply_results",
    "shipments_cancel",
    "shipments_expire_stale",
    "shipments_ingest",
    "shipments_mark_failed",
    "shipments_set_carrier",
    "shipments_sync_due",
    "shipments_take_due",
    "store_bulk_resync",
    "store_carrier_mapping_delete",
    "store_carrier_mapping_set",
    "store_clear_bulk_cooldown",
    "store_delivery_rule_set",
    "store_window_queryset",
    "sync_chunk",
    "sync_run_dispatch",
    "sync_run_fail",
    "sync_run_pending_chunks",
    "sync_runs_reconcile",
    "sync_runs_stalled",
]
