"""Carrier push under load: 17TRACK and AfterShip webhooks applied by 2 workers, and the time
from a push received to its event on the shopper's tracking page.

    .venv/bin/python bench/carrier_push.py [--pushes 1000] [--clients 20] [--concurrency 2]
        [--latency-pushes 200] [--latency-clients 4] [--workers N] [--threads N]

Production-like: gunicorn (DEBUG off), a real Celery worker (`--concurrency`, both queues), on a
PostgreSQL database of our own (`resync_push_bench`, created, migrated and dropped here) and Redis
database 11 (flushed before and after). Seeded: `--pushes` shipments, half tracked through
17TRACK, half through AfterShip, each pulled once before (two events).

Phases:
1. record: `--pushes` signed pushes (one per shipment, each adding an out-for-delivery event;
   bodies from connect/samples/carrier_push) posted by `--clients` threads while no worker
   runs — the answer times (p50/p95/p99) and all recorded once;
2. apply: a worker with `--concurrency` processes starts; timed from ready to every push
   applied → **pushes applied per second**;
3. latency: with the worker idle, `--latency-pushes` more pushes (a delivered event each) by
   `--latency-clients` threads, each posting one push then reading the shipment's tracking page
   every 20 ms until the new event's text is there → **p50/p95 from push sent to event
   visible** (and the recorded `received_at` → `applied_at` of the same pushes).
Checks (exit 1 when one fails, --no-fail to always exit 0): every push answered 200, recorded
once and applied, every event seen on its page. Logs: var/bench/logs/carrier_push-*.log.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import _load_common as common  # noqa: E402

from harness import env as harness_env  # noqa: E402
from harness.ports import local_url  # noqa: E402
from harness.services import celery_worker  # noqa: E402

common.DB_NAME = "resync_push_bench"
common.REDIS_DB_URL = "redis://127.0.0.1:6379/11"
common.LOCK_FILE = Path(tempfile.gettempdir()) / "resync-push-bench.lock"

AFTERSHIP_SECRET = "bench-aftership-webhook-secret"
SAMPLES = c.ROOT / "connect" / "samples" / "carrier_push"
LOG_DIR = c.BENCH_DIR / "logs"
PATHS = {"17track": "/webhooks/carriers/17track/", "aftership": "/webhooks/carriers/aftership/"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=1000, help="pushes applied by the worker")
    parser.add_argument("--clients", type=int, default=20, help="concurrent posting clients")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--latency-pushes", type=int, default=200)
    parser.add_argument("--latency-clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2 * common.cores() + 1, help="gunicorn")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--no-fail", action="store_true")
    return parser.parse_args()


# --- Payloads (the documented samples, made the i-th shipment's) ---------------------------------


def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


SAMPLE_17, SAMPLE_AS = _sample("17track_tracking_updated"), _sample("aftership_tracking_update")


def push_body(carrier: str, number: str, *, at: dt.datetime, text: str, delivered: bool) -> bytes:
    """A push for `number` whose newest event (at `at`) reads `text`."""
    if carrier == "17track":
        body = copy.deepcopy(SAMPLE_17)
        body["data"]["number"] = number
        info = body["data"]["track_info"]
        events = info["tracking"]["providers"][0]["events"]
        sub = "Delivered_Other" if delivered else "OutForDelivery_Other"
        new = {
            **events[0],
            "time_iso": at.isoformat(),
            "time_utc": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "description": text,
            "stage": sub.split("_")[0],
            "sub_status": sub,
        }
        events.insert(0, new)
        info["latest_event"] = new
        info["latest_status"] = {"status": sub.split("_")[0], "sub_status": sub}
    else:
        body = copy.deepcopy(SAMPLE_AS)
        tracking = body["msg"]
        tag = "Delivered" if delivered else "OutForDelivery"
        tracking.update(tracking_number=number, tag=tag, subtag=f"{tag}_001")
        tracking["updated_at"] = at.isoformat()
        new = {**tracking["checkpoints"][-1], "checkpoint_time": at.isoformat(), "message": text}
        new.update(tag=tag, subtag=f"{tag}_001")
        tracking["checkpoints"].append(new)
    return json.dumps(body).encode("utf-8")


def post(session: requests.Session, base: str, carrier: str, body: bytes) -> requests.Response:
    from shipments.carriers import push

    secret = c.DUMMY_CREDENTIALS["SEVENTEENTRACK_API_KEY"] if carrier == "17track" else ""
    secret = secret or AFTERSHIP_SECRET
    header = {push.SIGNATURE_HEADERS[carrier]: push.sign(carrier, body, secret)}
    return session.post(
        base + PATHS[carrier],
        data=body,
        headers={"Content-Type": "application/json", **header},
        timeout=30,
    )


# --- Seeding: shipments pulled once (the documented documents, by the pull's own writer) ---------


def seed(n: int) -> list[tuple[int, str, str, str]]:
    """`n` shipments, 17TRACK and AfterShip in turn, each with the sample's two events."""
    from django.utils import timezone

    from shipments.carriers import push
    from shipments.carriers.numbers import example_number
    from shipments.models import Order, Shipment, Store
    from shipments.services import shipments_apply_results

    now = timezone.now()
    store = Store.objects.create(name="Bench Push", slug="bench-push", time_zone="UTC")
    orders = Order.objects.bulk_create(
        Order(store=store, order_number=f"#{i:06d}", customer_email=f"s{i}@example.com",
              placed_at=now)
        for i in range(n)
    )  # fmt: skip
    carriers = ["17track" if i % 2 == 0 else "aftership" for i in range(n)]
    shipments = Shipment.objects.bulk_create(
        Shipment(store=store, order=orders[i], carrier=carriers[i],
                 tracking_number=example_number(carriers[i], i), shipped_at=now)
        for i in range(n)
    )  # fmt: skip
    for carrier, sample in (("17track", SAMPLE_17), ("aftership", SAMPLE_AS)):
        mine = [s for s in shipments if s.carrier == carrier]
        results = {}
        for s in mine:
            body = copy.deepcopy(sample)
            holder = body["data"] if carrier == "17track" else body["msg"]
            holder["number" if carrier == "17track" else "tracking_number"] = s.tracking_number
            results[s.tracking_number] = push.parse(carrier, body).result
        for i in range(0, len(mine), 500):
            shipments_apply_results(shipments=mine[i : i + 500], results=results, now=now)
    return [(s.pk, s.carrier, s.tracking_number, s.public_token) for s in shipments]


# --- Phases ----------------------------------------------------------------------------------------


def phase_record(base: str, rows, clients: int) -> dict[str, Any]:
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for i, (_, carrier, number, _) in enumerate(rows):
        jobs.put(
            (carrier, push_body(carrier, number, at=at, text=f"On the van #{i}", delivered=False))
        )
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        with requests.Session() as session:
            while True:
                try:
                    carrier, body = jobs.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                status = post(session, base, carrier, body).status_code
                with lock:
                    times.append(1000 * (time.perf_counter() - started))
                    statuses.append(status)

    began = time.perf_counter()
    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {"times": times, "statuses": statuses, "wall": wall}


def _pending() -> int:
    from connect.models import CarrierPush

    return CarrierPush.objects.filter(state=CarrierPush.State.PENDING).count()


def phase_apply(timeout: float) -> float:
    """Seconds from now until no push is pending."""
    started = time.perf_counter()
    while _pending():
        if time.perf_counter() - started > timeout:
            raise RuntimeError("pushes still pending at the timeout")
        time.sleep(0.05)
    return time.perf_counter() - started


def phase_latency(base: str, rows, count: int, clients: int) -> dict[str, Any]:
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for i, row in enumerate(rows[:count]):
        jobs.put((i, row))
    seen: list[float] = []
    missed: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        with requests.Session() as session:
            while True:
                try:
                    i, (_, carrier, number, token) = jobs.get_nowait()
                except queue.Empty:
                    return
                text = f"Delivered to the porch #{i}"
                at = dt.datetime.now(dt.UTC).replace(microsecond=0)
                body = push_body(carrier, number, at=at, text=text, delivered=True)
                started = time.perf_counter()
                post(session, base, carrier, body)
                while time.perf_counter() - started < 30:
                    if text in session.get(f"{base}/track/{token}/", timeout=10).text:
                        with lock:
                            seen.append(1000 * (time.perf_counter() - started))
                        break
                    time.sleep(0.02)
                else:
                    with lock:
                        missed.append(i)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"seen": seen, "missed": missed}


def recorded_ms(since: dt.datetime) -> list[float]:
    from connect.models import CarrierPush

    rows = CarrierPush.objects.filter(received_at__gte=since, applied_at__isnull=False)
    return [1000 * (r.applied_at - r.received_at).total_seconds() for r in rows]


def main() -> int:
    args = parse_args()
    env = common.bench_env(
        AFTERSHIP_WEBHOOK_SECRET=AFTERSHIP_SECRET,
        **harness_env.carrier_env(local_url(c.free_port()), rate_limit="5000", tag="bench"),
    )
    print(f"command: {c.command_line()}", flush=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    checks: list[tuple[str, bool]] = []
    with common.database(env):
        common.setup_django(env)
        from django.utils import timezone

        from connect.models import CarrierPush

        rows = seed(args.pushes)
        config = common.ServerConfig(args.workers, args.threads, "gthread")
        web_log = LOG_DIR / f"carrier_push-web-{stamp}.log"
        with common.gunicorn_server(config, env, web_log).start() as web:
            base = local_url(web.port)
            record = phase_record(base, rows, args.clients)
            checks.append(("every push answered 200", set(record["statuses"]) == {200}))
            checks.append(("recorded once each", CarrierPush.objects.count() == args.pushes))
            worker = celery_worker(
                dict(env, LOG_LEVEL="INFO"), name="push-bench", concurrency=args.concurrency,
                log=LOG_DIR / f"carrier_push-worker-{stamp}.log",
            )  # fmt: skip
            with worker.start():
                apply_s = phase_apply(args.timeout)
                applied = CarrierPush.objects.filter(state=CarrierPush.State.APPLIED).count()
                checks.append(("all applied", applied == args.pushes))
                since = timezone.now()
                latency = phase_latency(base, rows, args.latency_pushes, args.latency_clients)
                checks.append(("every event seen on its page", not latency["missed"]))
                applied_ms = recorded_ms(since)
    pct = c.percentile
    print(f"\n{config.describe()}, worker --concurrency {args.concurrency}, PostgreSQL")
    print(
        f"record {args.pushes} pushes, {args.clients} clients: {args.pushes / record['wall']:.0f}"
        f" req/s; answer p50 {pct(record['times'], 50):.0f} ms, p95 "
        f"{pct(record['times'], 95):.0f} ms, p99 {pct(record['times'], 99):.0f} ms"
    )
    print(
        f"apply {args.pushes} pushes by {args.concurrency} worker processes: {apply_s:.1f} s ="
        f" {args.pushes / apply_s:.1f} pushes applied/s"
    )
    seen = latency["seen"]
    print(
        f"push sent -> event on the tracking page ({len(seen)} pushes, "
        f"{args.latency_clients} clients, page read every 20 ms): p50 {pct(seen, 50):.0f} ms, "
        f"p95 {pct(seen, 95):.0f} ms, max {max(seen, default=0):.0f} ms"
    )
    print(
        f"recorded received_at -> applied_at of the same: p50 {pct(applied_ms, 50):.0f} ms, "
        f"p95 {pct(applied_ms, 95):.0f} ms"
    )
    for name, ok in checks:
        print(f"check: {name}: {'ok' if ok else 'FAILED'}")
    print(f"command: {c.command_line()}")
    return 0 if all(ok for _, ok in checks) or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
