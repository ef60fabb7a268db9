"""Shopify webhooks under load: 1,000 `orders/updated` posted by 20 clients, applied by a worker.

    .venv/bin/python bench/shopify_webhooks.py [--webhooks 1000] [--redeliveries 100]
        [--clients 20] [--concurrency 2] [--latency-ms 100] [--workers N] [--threads N]

The issue's question: "1,000 webhooks posted by 20 concurrent clients: all stored once, p95 answer
time and the worker's shipments/s." Production-like: gunicorn (DEBUG off), a real Celery worker
(`--concurrency`, both queues) and the carrier sandbox (`--latency-ms`), on a PostgreSQL database
of our own (`resync_webhooks`, created, migrated and dropped here) and Redis database 8 (flushed
before and after). The plumbing is bench/_load_common.py's (its database name, Redis URL and lock
file re-pointed at ours, so this bench runs beside the other load benches) and the harness's.

Payloads: `--webhooks` distinct `orders/updated` webhooks made from
connect/samples/shopify/orders_updated.json, each with its own order id, order name (`#10001`…),
fulfillment id and a well-formed tracking number of one of the six demo carriers (round-robin,
`example_number`), signed with the server's SHOPIFY_API_SECRET; plus `--redeliveries` copies of
already-sent ones (same X-Shopify-Webhook-Id, same body), each queued at least 2 × clients
places after its original. `--clients` threads (one keep-alive `requests.Session` each) take
them from one queue and time each answer. The ceiling, in the same run and before the webhooks:
the same clients, the same number of requests, against `/bench/one-row/<pk>/` (one row by
primary key into a tiny template; BENCH_VIEWS=1).

The worker runs while the webhooks arrive. Timed from the first post: all webhooks `applied`
(→ webhooks/s and shipments/s applied), and all their shipments pulled once (`last_synced_at`
set: `shipments.tasks.sync_chunk` against the sandbox). Also: SQL statements of one POST, one
apply and one first pull (in this process, Django's test client and the services, on a probe
store), the pool's busy time per task from the worker's log, and the carrier requests made.

Checks, printed and asserted (exit 1 when one fails, --no-fail to always exit 0): exactly
`--webhooks` ShopifyWebhook rows and shipments for the shop, every original answered 200 as new,
every redelivery 200 as a duplicate, no 5xx and no connection error, everything applied and
pulled before --timeout. Logs: var/bench/logs/shopify_webhooks-*.log. On a PostgreSQL server with
autovacuum off, the tables are ANALYZEd every 5 s during the run (as autoanalyze would).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import json
import os
import queue
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import _load_common as common  # noqa: E402

from harness import env as harness_env  # noqa: E402
from harness.ports import local_url  # noqa: E402
from harness.procfs import group_cpu_seconds  # noqa: E402

# Ours, apart from the other benches (_load_common: resync_load, Redis db 7; _common: db 9).
common.DB_NAME = "resync_webhooks"
common.REDIS_DB_URL = "redis://127.0.0.1:6379/8"
common.LOCK_FILE = Path(tempfile.gettempdir()) / "resync-webhooks-bench.lock"

SECRET = "bench-shopify-client-secret"
SHOP = "bench-webhooks.myshopify.com"
PROBE_SHOP = "bench-probe.myshopify.com"
TOPIC = "orders/updated"
SAMPLE = c.ROOT / "connect" / "samples" / "shopify" / "orders_updated.json"
LOG_DIR = c.BENCH_DIR / "logs"
ENDPOINT = "/webhooks/shopify/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=1000, help="distinct webhooks")
    parser.add_argument("--redeliveries", type=int, default=100, help="copies of sent ones")
    parser.add_argument("--clients", type=int, default=20, help="concurrent HTTP clients")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--latency-ms", type=int, default=100, help="carrier sandbox latency")
    parser.add_argument("--workers", type=int, default=2 * common.cores() + 1, help="gunicorn")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--timeout", type=float, default=600, help="give up waiting after (s)")
    parser.add_argument("--seed", type=int, default=7, help="where the redeliveries go")
    parser.add_argument("--no-fail", action="store_true")
    return parser.parse_args()


# --- Payloads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    index: int  # the webhook's number (0 … webhooks-1)
    redelivery: bool
    body: bytes
    headers: dict[str, str]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def webhook_body(i: int, now: dt.datetime, *, order_base: int = 5_500_000_000_000) -> bytes:
    """Shopify's sample `orders/updated`, made the i-th order of the shop: its own ids, name,
    e-mail and one fulfillment with a well-formed number of a demo carrier (round-robin)."""
    from shipments.carriers import catalogue
    from shipments.carriers.numbers import example_number

    payload = copy.deepcopy(json.loads(SAMPLE.read_text()))
    carrier = c.DEMO_CARRIERS[i % len(c.DEMO_CARRIERS)]
    number = example_number(carrier, i)
    order_id = order_base + i
    name = f"#{10001 + i}"
    created = now - dt.timedelta(days=2, minutes=i % 600)
    updated = now - dt.timedelta(minutes=5)
    payload.update(
        id=order_id,
        admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
        name=name,
        order_number=10001 + i,
        number=1 + i,
        email=f"shopper{i}@example.com",
        contact_email=f"shopper{i}@example.com",
        token=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-order-{order_id}").hex,
        created_at=_iso(created),
        processed_at=_iso(created),
        updated_at=_iso(updated),
    )
    fulfillment = payload["fulfillments"][0]
    fulfillment_id = 7_700_000_000 + i + (order_base - 5_500_000_000_000)
    fulfillment.update(
        id=fulfillment_id,
        admin_graphql_api_id=f"gid://shopify/Fulfillment/{fulfillment_id}",
        order_id=order_id,
        name=f"{name}.1",
        email=f"shopper{i}@example.com",
        created_at=_iso(updated - dt.timedelta(minutes=1)),
        updated_at=_iso(updated),
        tracking_company=catalogue.BY_CODE[carrier].name,
        tracking_number=number,
        tracking_numbers=[number],
        tracking_url=f"https://example.com/track?number={number}",
        tracking_urls=[f"https://example.com/track?number={number}"],
    )
    return json.dumps(payload).encode("utf-8")


def signed_headers(body: bytes, webhook_id: str, shop: str = SHOP) -> dict[str, str]:
    from connect.shopify.signature import sign

    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": TOPIC,
        "X-Shopify-Hmac-Sha256": sign(body, SECRET),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Triggered-At": "2026-11-29T10:00:00.000000Z",
    }


def webhook_id(i: int, salt: str = "") -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"resync-bench-webhook-{salt}{i}"))


def deliveries(args) -> list[Delivery]:
    """The originals in order, each redelivery at least 2 × clients places after its original."""
    from django.utils import timezone

    now = timezone.now()
    originals = []
    for i in range(args.webhooks):
        body = webhook_body(i, now)
        originals.append(Delivery(i, False, body, signed_headers(body, webhook_id(i))))
    gap = 2 * args.clients
    rng = random.Random(args.seed)
    eligible = range(max(args.webhooks - gap, 0))
    chosen = rng.sample(eligible, min(args.redeliveries, len(eligible)))
    keyed: list[tuple[float, Delivery]] = [(float(d.index), d) for d in originals]
    for k in chosen:
        copy_of = originals[k]
        place = k + gap + rng.uniform(0, args.webhooks - k - gap)
        keyed.append((place, Delivery(k, True, copy_of.body, copy_of.headers)))
    keyed.sort(key=lambda kv: kv[0])
    return [d for _, d in keyed]


# --- Clients --------------------------------------------------------------------------------------


@dataclass
class Answer:
    delivery: Delivery | None
    status: int  # 0: no answer (connection error, timeout)
    duplicate: bool | None
    sent: float
    done: float
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.done - self.sent


@dataclass
class LoadResult:
    label: str
    answers: list[Answer]
    wall: float

    @property
    def latencies_ms(self) -> list[float]:
        return [1000 * a.seconds for a in self.answers if a.status]

    def pct(self, q: float) -> float:
        return c.percentile(self.latencies_ms, q)

    @property
    def rps(self) -> float:
        return len(self.answers) / self.wall if self.wall else 0.0

    @property
    def errors(self) -> int:
        return sum(1 for a in self.answers if a.status != 200)

    @property
    def slower_than_1s(self) -> int:
        return sum(1 for ms in self.latencies_ms if ms > 1000)

    def statuses(self) -> Counter:
        return Counter(a.status for a in self.answers)


def drive(label: str, clients: int, jobs: list[Any], send) -> LoadResult:
    """`clients` threads, one keep-alive session each, take `jobs` from one queue in order;
    `send(session, job)` returns (status, duplicate flag)."""
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    answers: list[Answer] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def run() -> None:
        mine: list[Answer] = []
        with requests.Session() as session:
            start.wait()
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    break
                sent = time.monotonic()
                try:
                    status, duplicate = send(session, job)
                    error = ""
                except requests.RequestException as exc:
                    status, duplicate, error = 0, None, type(exc).__name__
                done = time.monotonic()
                delivery = job if isinstance(job, Delivery) else None
                mine.append(Answer(delivery, status, duplicate, sent, done, error))
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    return LoadResult(label, answers, time.monotonic() - began)


def post_webhook(url: str):
    def send(session: requests.Session, d: Delivery) -> tuple[int, bool | None]:
        response = session.post(url, data=d.body, headers=d.headers, timeout=30)
        duplicate = None
        if response.status_code == 200:
            duplicate = bool(response.json().get("duplicate"))
        return response.status_code, duplicate

    return send


def get_url(url: str):
    def send(session: requests.Session, _: Any) -> tuple[int, None]:
        response = session.get(url, timeout=30)
        response.content  # noqa: B018 - read the whole answer
        return response.status_code, None

    return send


# --- Seeding and in-process SQL counts ------------------------------------------------------------


def seed() -> tuple[Any, Any]:
    """The shop's store (empty) and a probe store with one shipment (the ceiling's row)."""
    from django.utils import timezone

    from shipments.carriers.numbers import example_number
    from shipments.models import Order, Shipment, Store

    store = Store.objects.create(
        name="Bench Webhooks", slug="bench-webhooks", display_name="Bench Webhooks",
        time_zone="America/New_York", shop_domain=SHOP,
    )  # fmt: skip
    probe = Store.objects.create(
        name="Bench Probe", slug="bench-probe", display_name="Bench Probe",
        time_zone="America/New_York", shop_domain=PROBE_SHOP,
    )  # fmt: skip
    order = Order.objects.create(
        store=probe,
        order_number="#PROBE-1",
        customer_email="probe@example.com",
        placed_at=timezone.now(),
    )
    Shipment.objects.create(
        store=probe,
        order=order,
        carrier="dhl",
        tracking_number=example_number("dhl", 990_000),
        origin="Leipzig, DE",
        destination="Chicago, IL, US",
        shipped_at=timezone.now(),
    )
    return store, probe


def _expect(condition: object, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


def _statement(sql: str) -> str:
    many = re.match(r"(\d+) times: (\w+)", sql)
    if many:
        return f"{many.group(2).upper()}×{many.group(1)}"
    return sql.split(None, 1)[0].upper()


@contextlib.contextmanager
def captured(into: dict[str, str], label: str) -> Iterator[None]:
    """Statements (by kind), their time and the wall time of the block, as one line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        yield
        wall = time.perf_counter() - started
    kinds = Counter(_statement(q["sql"]) for q in ctx.captured_queries)
    sql_s = sum(float(q["time"]) for q in ctx.captured_queries)
    into[label] = (
        f"{len(ctx.captured_queries)} statements ("
        + " ".join(f"{k} {v}" for k, v in kinds.most_common())
        + f"); SQL {1000 * sql_s:.1f} ms of {1000 * wall:.1f} ms"
    )


def sql_counts(probe) -> dict[str, str]:
    """Statements of one webhook POST (Django's test client), of applying it (the worker's
    service) and of the first pull of its shipment (a one-shipment chunk, against the
    sandbox), on the probe store; the second of two, so imports and caches are warm. The
    messages this publishes into Redis are deleted before the worker starts."""
    from django.test import Client
    from django.utils import timezone

    from connect.models import ShopifyWebhook
    from connect.services import shopify
    from shipments import services
    from shipments.models import Shipment

    client = Client()
    now = timezone.now()
    counts: dict[str, str] = {}
    for attempt in range(2):
        body = webhook_body(attempt, now, order_base=6_600_000_000_000)
        headers = signed_headers(body, webhook_id(attempt, "probe-"), PROBE_SHOP)
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        meta.pop("HTTP_CONTENT_TYPE")
        with captured(counts, "POST (new webhook)"):
            response = client.post(ENDPOINT, body, content_type="application/json", **meta)
        _expect(response.status_code == 200, f"probe POST answered {response.status_code}")
        _expect(not response.json()["duplicate"], "probe POST taken for a duplicate")
        with captured(counts, "POST (redelivery)"):
            response = client.post(ENDPOINT, body, content_type="application/json", **meta)
        _expect(response.status_code == 200, f"probe redelivery answered {response.status_code}")
        _expect(response.json()["duplicate"], "probe redelivery not taken for a duplicate")
        hook = ShopifyWebhook.objects.get(store=probe, webhook_id=headers["X-Shopify-Webhook-Id"])
        with captured(counts, "apply (worker's service)"):
            state = shopify.shopify_webhook_apply(webhook_pk=hook.pk)
        _expect(state == ShopifyWebhook.State.APPLIED, f"probe webhook {state}")
        order_id = str(6_600_000_000_000 + attempt)
        shipment = Shipment.objects.get(store=probe, order__external_id=order_id)
        with captured(counts, "first pull (1-shipment chunk)"):
            services.sync_chunk(run_id=None, carrier=shipment.carrier, shipment_ids=[shipment.pk])
        shipment.refresh_from_db()
        _expect(shipment.last_synced_at is not None, "probe first pull did not sync")
    return counts


def inprocess_cpu(ceiling_pk: int) -> dict[str, float]:
    """CPU ms one request costs Django in this process (the WSGI app called directly, one
    thread; _load_common.wsgi_cpu_ms): the ceiling, and a new webhook (probe shop, a fresh
    webhook id each call, so each is recorded and its message published)."""
    import io

    body = webhook_body(0, dt.datetime.now(dt.UTC), order_base=6_700_000_000_000)
    serial = iter(range(10**6))

    def post() -> dict[str, object]:
        headers = signed_headers(body, webhook_id(next(serial), "inproc-"), PROBE_SHOP)
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        meta.pop("HTTP_CONTENT_TYPE")
        meta.update(
            {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))},
            **{"wsgi.input": io.BytesIO(body)},
        )
        return common.wsgi_environ(ENDPOINT, "POST", **meta)

    return {
        "ceiling": common.wsgi_cpu_ms(
            lambda: common.wsgi_environ(f"/bench/one-row/{ceiling_pk}/"), number=100, repeat=3
        ),
        "webhook": common.wsgi_cpu_ms(post, number=100, repeat=3),
    }


# --- Waiting for the worker -----------------------------------------------------------------------


@dataclass
class Progress:
    applied_s: float | None = None  # seconds after the first post
    pulled_s: float | None = None
    timeline: list[tuple[float, int, int]] = field(default_factory=list)


def watch(store, n: int, t0: float, progress: Progress, stop: threading.Event, timeout: float):
    """Poll (every 0.1 s) how many of the shop's webhooks are applied and shipments pulled."""
    from django.db import connection

    from connect.models import ShopifyWebhook
    from shipments.models import Shipment

    deadline = t0 + timeout
    next_print = t0 + 5
    try:
        while not stop.is_set():
            applied = ShopifyWebhook.objects.filter(
                store=store, state__in=[ShopifyWebhook.State.APPLIED, ShopifyWebhook.State.FAILED]
            ).count()
            pulled = Shipment.objects.filter(store=store, last_synced_at__isnull=False).count()
            now = time.monotonic()
            progress.timeline.append((now - t0, applied, pulled))
            if progress.applied_s is None and applied >= n:
                progress.applied_s = now - t0
            if progress.pulled_s is None and pulled >= n:
                progress.pulled_s = now - t0
            if progress.applied_s is not None and progress.pulled_s is not None:
                return
            if now > next_print:
                print(
                    f"  … {now - t0:5.1f} s  applied {applied:>5}  pulled {pulled:>5}", flush=True
                )
                next_print = now + 5
            if now > deadline:
                print(f"  ! gave up after {timeout:.0f} s", flush=True)
                return
            time.sleep(0.1)
    finally:
        connection.close()


class AutoAnalyze(c.AutoAnalyze):
    TABLES = (
        "connect_shopifywebhook",
        "shipments_order",
        "shipments_shipment",
        "shipments_trackingevent",
    )


def pool_busy(log: str, task: str) -> tuple[int, float, float]:
    """(tasks, seconds they ran in total, longest) of `task` from the worker's log."""
    runs = [
        float(m.group(1))
        for m in re.finditer(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in ([\d.]+)s", log)
    ]
    return len(runs), sum(runs), max(runs, default=0.0)


class MachineMeter:
    """CPU seconds of the whole machine and of ours (gunicorn, worker, sandbox, our PostgreSQL
    backends, this process) between `start()` and `stop()`: the rest is other work sharing the
    cores, which moves every figure of this bench."""

    def __init__(self, server, worker, sandbox) -> None:
        self.server, self.worker, self.sandbox = server, worker, sandbox
        self.ours: dict[str, float] = {}
        self.busy = self.elapsed = 0.0

    def _ours(self) -> dict[str, float]:
        return {
            "gunicorn": group_cpu_seconds(self.server.pid),
            "worker": group_cpu_seconds(self.worker.pid),
            "sandbox": group_cpu_seconds(self.sandbox.pid),
            "bench": c.cpu_seconds(os.getpid()),
        }

    def start(self) -> MachineMeter:
        self._machine0, self._ours0 = c.machine_cpu_seconds(), self._ours()
        self._pg0 = common.postgres_cpu_by_pid()
        return self

    def stop(self) -> None:
        after, machine = self._ours(), c.machine_cpu_seconds()
        pg = common.postgres_cpu_by_pid()
        self.ours = {k: v - self._ours0[k] for k, v in after.items()}
        self.ours["postgres"] = sum(v - self._pg0.get(pid, 0.0) for pid, v in pg.items())
        self.busy = machine[0] - self._machine0[0]
        self.elapsed = machine[1] - self._machine0[1]

    def summary(self) -> str:
        ours = sum(self.ours.values())
        return (
            f"busy {100 * self.busy / max(self.elapsed, 0.001):.0f}% of {os.cpu_count()} cores; "
            + ", ".join(f"{k} {v:.1f}" for k, v in self.ours.items())
            + f" s; other processes {self.busy - ours:.1f} s"
        )


# --- The run --------------------------------------------------------------------------------------


@dataclass
class Figures:
    sql: dict[str, str] = field(default_factory=dict)
    inproc: dict[str, float] = field(default_factory=dict)
    ceiling: LoadResult | None = None
    hooks: LoadResult | None = None
    ceiling_cpu_s: float = 0.0
    hooks_cpu_s: float = 0.0
    progress: Progress = field(default_factory=Progress)
    db: dict[str, Any] = field(default_factory=dict)
    worker_log: str = ""
    worker_cpu_s: float = 0.0
    sandbox_requests: dict[str, int] = field(default_factory=dict)
    server_tracebacks: int = 0
    worker_errors: int = 0
    analyze_note: str = ""
    machine: str = ""
    loadavg: str = ""
    redeliveries_after_answer: int = 0


def database_figures(store, t0_wall: float) -> dict[str, Any]:
    from django.db.models import Count, Max, Min

    from connect.models import ShopifyWebhook
    from shipments.models import Order, Shipment

    hooks = ShopifyWebhook.objects.filter(store=store)
    shipments = Shipment.objects.filter(store=store)
    span = hooks.aggregate(first=Min("applied_at"), last=Max("applied_at"))
    synced = shipments.aggregate(last=Max("last_synced_at"))
    return {
        "webhook_rows": hooks.count(),
        "distinct_ids": hooks.values("webhook_id").distinct().count(),
        "states": dict(Counter(hooks.values_list("state", flat=True))),
        "attempts_max": hooks.aggregate(m=Max("attempts"))["m"],
        "orders": Order.objects.filter(store=store).count(),
        "shipments": shipments.count(),
        "by_carrier": dict(
            shipments.values_list("carrier").annotate(n=Count("id")).values_list("carrier", "n")
        ),
        "outcomes": dict(Counter(shipments.values_list("last_sync_outcome", flat=True))),
        "pulled": shipments.filter(last_synced_at__isnull=False).count(),
        "numbers_twice": shipments.values("tracking_number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "last_applied_s": span["last"].timestamp() - t0_wall if span["last"] else None,
        "last_synced_s": synced["last"].timestamp() - t0_wall if synced["last"] else None,
    }


def run(args, env: dict[str, str], sandbox_port: int) -> Figures:
    f = Figures()
    store, probe = seed()
    common.analyze()
    config = common.ServerConfig(args.workers, args.threads, args.worker_class)
    plan = deliveries(args)
    worker_env = dict(env, LOG_LEVEL="INFO")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    gunicorn_log = LOG_DIR / "shopify_webhooks-gunicorn.log"
    with c.Subprocesses() as procs:
        sandbox = procs.sandbox(
            sandbox_port, args.latency_ms, env, LOG_DIR / "shopify_webhooks-sandbox.log"
        )
        from shipments.models import Shipment

        ceiling_pk = Shipment.objects.get(store=probe, order__order_number="#PROBE-1").pk
        f.sql = sql_counts(probe)
        f.inproc = inprocess_cpu(ceiling_pk)
        common.close_django()
        common.clear_redis_state()  # the probe's apply and pull messages: not for the worker
        gunicorn_log.unlink(missing_ok=True)
        server = procs.start(common.gunicorn_server(config, env, gunicorn_log))
        ceiling_url = f"{server.url}/bench/one-row/{ceiling_pk}/"
        hook_url = server.url + ENDPOINT
        # Warm-up: every gunicorn worker loads the ceiling and the webhook view (signed, for a
        # shop nobody has: 404, nothing stored).
        unknown = [
            Delivery(
                i,
                False,
                d.body,
                dict(d.headers, **{"X-Shopify-Shop-Domain": "nobody.myshopify.com"}),
            )
            for i, d in enumerate(plan[:200])
        ]
        drive("warm-up", args.clients, list(range(200)), get_url(ceiling_url))
        warm = drive("warm-up", args.clients, unknown, post_webhook(hook_url))
        _expect(warm.statuses() == Counter({404: len(unknown)}), f"warm-up: {warm.statuses()}")

        cpu0 = group_cpu_seconds(server.pid)
        f.ceiling = drive(
            "ceiling: GET one-row view", args.clients, list(range(len(plan))), get_url(ceiling_url)
        )
        f.ceiling_cpu_s = group_cpu_seconds(server.pid) - cpu0

        worker = procs.worker(
            worker_env, args.concurrency, LOG_DIR / "shopify_webhooks-worker.log", name="webhooks"
        )
        worker_pids = [worker.pid, *c.children(worker.pid)]
        worker_cpu0 = c.cpu_seconds_of(worker_pids)
        stats0 = sandbox.stats()
        analyzer = AutoAnalyze().start()
        f.loadavg = Path("/proc/loadavg").read_text().split()[0]
        meter = MachineMeter(server, worker, sandbox).start()
        print(
            f"worker ready (pid {worker.pid}, pool {worker_pids[1:]}); posting {len(plan)} "
            f"webhooks from {args.clients} clients",
            flush=True,
        )
        stop = threading.Event()
        t0, t0_wall = time.monotonic(), time.time()
        watcher = threading.Thread(
            target=watch, args=(store, args.webhooks, t0, f.progress, stop, args.timeout)
        )
        watcher.start()
        cpu0 = group_cpu_seconds(server.pid)
        try:
            f.hooks = drive("POST /webhooks/shopify/", args.clients, plan, post_webhook(hook_url))
            f.hooks_cpu_s = group_cpu_seconds(server.pid) - cpu0
            print(f"posted in {f.hooks.wall:.1f} s; waiting for the worker", flush=True)
            watcher.join()
        finally:
            stop.set()
            watcher.join()
            analyzer.stop()
        meter.stop()
        f.machine = meter.summary()
        f.analyze_note = analyzer.note()
        f.worker_cpu_s = c.cpu_seconds_of(worker_pids) - worker_cpu0
        stats1 = sandbox.stats()
        f.sandbox_requests = {
            k: v - stats0["by_carrier"].get(k, 0) for k, v in stats1["by_carrier"].items()
        }
        f.sandbox_requests["total"] = stats1["requests"] - stats0["requests"]
        procs.stop(worker)
        f.worker_log = worker.output()
        procs.stop(server)
    f.server_tracebacks = gunicorn_log.read_text(errors="replace").count("Traceback")
    f.worker_errors = len(re.findall(r"\bERROR\b|Traceback", f.worker_log))
    f.db = database_figures(store, t0_wall)
    answered = {
        a.delivery.index: a.done
        for a in f.hooks.answers
        if a.delivery and not a.delivery.redelivery
    }
    f.redeliveries_after_answer = sum(
        1
        for a in f.hooks.answers
        if a.delivery and a.delivery.redelivery and a.sent > answered.get(a.delivery.index, 1e18)
    )
    return f


# --- Report ---------------------------------------------------------------------------------------


def load_table(f: Figures) -> str:
    head = (
        f"  {'':<28} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'p99 ms':>7} {'max ms':>7} {'> 1 s':>5} {'gunicorn CPU ms/req':>19}"
    )
    lines = [head]
    for r, cpu in ((f.ceiling, f.ceiling_cpu_s), (f.hooks, f.hooks_cpu_s)):
        lines.append(
            f"  {r.label:<28} {len(r.answers):8d} {r.errors:6d} {r.rps:7.0f} {r.pct(50):7.1f}"
            f" {r.pct(95):7.1f} {r.pct(99):7.1f} {max(r.latencies_ms, default=0):7.1f}"
            f" {r.slower_than_1s:5d} {1000 * cpu / max(len(r.answers), 1):19.2f}"
        )
    return "\n".join(lines)


def checks(args, f: Figures) -> list[tuple[str, bool, str]]:
    answers = f.hooks.answers
    originals = [a for a in answers if a.delivery and not a.delivery.redelivery]
    copies = [a for a in answers if a.delivery and a.delivery.redelivery]
    new_ok = sum(1 for a in originals if a.status == 200 and a.duplicate is False)
    dup_ok = sum(1 for a in copies if a.status == 200 and a.duplicate is True)
    copies_200 = sum(1 for a in copies if a.status == 200)
    server_errors = sum(1 for a in answers if a.status >= 500)
    no_answer = sum(1 for a in answers if a.status == 0)
    db, n = f.db, args.webhooks
    applied = db["states"].get("applied", 0)
    return [
        ("ShopifyWebhook rows == webhooks", db["webhook_rows"] == n == db["distinct_ids"],
         f"{db['webhook_rows']} rows, {db['distinct_ids']} distinct ids, {n} sent"),
        ("shipments == webhooks", db["shipments"] == n and db["numbers_twice"] == 0,
         f"{db['shipments']} shipments ({db['numbers_twice']} numbers twice), "
         f"{db['orders']} orders"),
        ("originals answered 200 as new", new_ok == len(originals),
         f"{new_ok}/{len(originals)}"),
        ("redeliveries answered 200", copies_200 == len(copies),
         f"{copies_200}/{len(copies)} (as duplicates: {dup_ok}; "
         f"{f.redeliveries_after_answer} sent after their original's answer)"),
        ("no 5xx, no connection error", server_errors == 0 and no_answer == 0,
         f"5xx {server_errors}, no answer {no_answer}; statuses "
         + ", ".join(f"{k} {v}" for k, v in sorted(f.hooks.statuses().items()))),
        ("all applied", applied == n and f.progress.applied_s is not None,
         ", ".join(f"{k} {v}" for k, v in sorted(db["states"].items()))),
        ("all pulled once", db["pulled"] == n and f.progress.pulled_s is not None,
         f"{db['pulled']} with last_synced_at; outcomes "
         + ", ".join(f"{k or '-'} {v}" for k, v in sorted(db["outcomes"].items()))),
    ]  # fmt: skip


def worker_rows(args, f: Figures) -> list[tuple[str, str]]:
    p, db, n = f.progress, f.db, args.webhooks
    rows = []
    if p.applied_s:
        rows.append(
            (
                "applied (first post → all)",
                f"{p.applied_s:.1f} s (polled; last applied_at {db['last_applied_s']:.1f} s) → "
                f"{n / p.applied_s:.1f} webhooks/s, {db['shipments'] / p.applied_s:.1f} "
                f"shipments/s; {p.applied_s - f.hooks.wall:.1f} s after the last answer",
            )
        )
    if p.pulled_s:
        rows.append(
            (
                "pulled (first post → all)",
                f"{p.pulled_s:.1f} s (polled; last last_synced_at {db['last_synced_s']:.1f} s)"
                f" → {db['pulled'] / p.pulled_s:.1f} shipments/s",
            )
        )
    for task, label in (
        ("connect.tasks.shopify_webhook_apply", "pool: apply tasks"),
        ("shipments.tasks.sync_chunk", "pool: sync_chunk tasks"),
    ):
        count, busy, longest = pool_busy(f.worker_log, task)
        rows.append(
            (
                label,
                f"{count} ran {busy:.1f} s in total (mean {1000 * busy / max(count, 1):.0f} ms,"
                f" max {1000 * longest:.0f} ms)",
            )
        )
    end = p.pulled_s or p.applied_s or 0.0
    rows.append(
        (
            "worker CPU",
            f"{f.worker_cpu_s:.1f} s ({1000 * f.worker_cpu_s / n:.1f} ms per webhook) over "
            f"{end:.1f} s = {100 * f.worker_cpu_s / max(end, 0.001):.0f}% of one core",
        )
    )
    total = f.sandbox_requests.pop("total", 0)
    rows.append(
        (
            "carrier requests (sandbox)",
            f"{total}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(f.sandbox_requests.items()) if v),
        )
    )
    rows.append((f"machine (load avg {f.loadavg} before)", f.machine))
    rows.append(
        ("shipments by carrier", ", ".join(f"{k} {v}" for k, v in sorted(db["by_carrier"].items())))
    )
    return rows


def report(args, f: Figures) -> bool:
    config = common.ServerConfig(args.workers, args.threads, args.worker_class)
    print(
        f"\nShopify webhooks, {config.describe()}, worker --concurrency {args.concurrency}, "
        f"sandbox {args.latency_ms} ms, {common.cores()} cores, PostgreSQL "
        f"({common.DB_NAME}; {f.analyze_note}), DEBUG=0"
    )
    print(
        f"  {args.webhooks} distinct {TOPIC} + {args.redeliveries} redeliveries, "
        f"{args.clients} clients; ceiling: GET /bench/one-row/<pk>/, same clients, same count"
    )
    print(
        f"  server tracebacks logged: {f.server_tracebacks}; worker ERROR lines: {f.worker_errors}"
    )
    print()
    print(load_table(f))
    print()
    rows = [("SQL: " + k, v) for k, v in f.sql.items()]
    rows.append(
        (
            "in-process CPU ms/request",
            f"webhook POST {f.inproc['webhook']:.2f}, ceiling {f.inproc['ceiling']:.2f} "
            "(Django alone: WSGI call, one thread, best of 3 × 100)",
        )
    )
    rows += worker_rows(args, f)
    print(c.table(rows))
    print()
    results = checks(args, f)
    for label, ok, detail in results:
        print(f"  {'ok    ' if ok else 'FAILED'}  {label}: {detail}")
    slow = f.hooks.slower_than_1s
    if slow:
        print(f"  note    {slow} webhook answers took longer than 1 s")
    print(f"\ncommand: {c.command_line()}")
    return all(ok for _, ok, _ in results)


def main() -> int:
    args = parse_args()
    sandbox_port = c.free_port()
    env = common.bench_env(
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SHOPIFY_API_SECRET=SECRET,
        **harness_env.carrier_env(local_url(sandbox_port), rate_limit="5000", tag="bench"),
    )
    print(f"command: {c.command_line()}", flush=True)
    with common.database(env):
        common.setup_django(env)
        figures = run(args, env, sandbox_port)
        ok = report(args, figures)
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
