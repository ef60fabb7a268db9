"""Refused shopper resyncs: audit rows written for N refused requests, and time per request.

    DEBUG=1 DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/refused_resyncs.py [--requests 1000] [--clients 4]

In process (Django's test client, no server): migrates the given database, makes one store with
one shipment, lets one resync through, then posts `--requests` resyncs of it from `--clients`
addresses in turn, all past `TRACK_RESYNC_RATE_PER_IP` (1/h here) or the cooldown. Prints the
audit rows written during the requests, the time per request, and the rows after the flush of
the refusal counters (shipments/services/refusals.py). Removes its store and its Redis keys at
the end; use a database and a Redis database of your own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _in_process import django_ready  # noqa: E402

os.environ["TRACK_RESYNC_RATE_PER_IP"] = "1/h"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    wipe_redis = django_ready()
    from django.test import Client
    from django.urls import reverse

    from shipments import services
    from shipments.models import ResyncRequest
    from shipments.tests.fixtures import make_shipment, make_store

    store = make_store(name="Bench refusals", slug=f"bench-refusals-{os.getpid()}")
    try:
        shipment = make_shipment(store)
        url = reverse("tracking:resync", args=[shipment.public_token])
        client = Client(HTTP_ACCEPT="application/json")
        assert client.post(url).status_code == 202
        audit = ResyncRequest.objects.filter(store=store)
        before = audit.count()

        times = []
        statuses: dict[int, int] = {}
        for n in range(args.requests):
            started = time.perf_counter()
            response = client.post(url, REMOTE_ADDR=f"198.51.100.{n % args.clients + 1}")
            times.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        during = audit.count() - before

        written = services.resync_refusals_flush(now=time.time() + 120)
        rows = list(
            audit.filter(accepted=False).values_list(
                "ip_address", "refused_reason", "request_count"
            )
        )
        print(f"refused requests:            {args.requests} from {args.clients} clients")
        print(f"answers:                     {statuses}")
        print(f"audit rows during requests:  {during}")
        print(
            f"time per request:            p50 {statistics.median(times) * 1000:.2f} ms, "
            f"max {max(times) * 1000:.2f} ms"
        )
        print(f"audit rows after the flush:  {len(rows)} (flush wrote {written})")
        print(f"requests they stand for:     {sum(r[2] for r in rows)}")
        for row in sorted(rows):
            print(f"  {row}")
    finally:
        store.delete()
        wipe_redis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
