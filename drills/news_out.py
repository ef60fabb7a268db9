"""Drill: a bulk run changes every shipment's status; each change must reach the shopper by
e-mail and the merchant by webhook exactly as the contract says, with workers killed mid-way.

    .venv/bin/python drills/news_out.py [--quick] [--sqlite] [-n 10000] [--concurrency 1]

Every shipment is `pending` and its sandbox history is in a status the store e-mails about (and
stays so for the drill), so its pull is one status change. Two Celery workers and beat; an SMTP
sink (aiosmtpd) and a webhook receiver (http.server) in the drill process; one endpoint made
through the service, subscribed to `shipment.status_changed`.

Kill 1: at 30 % of the bulk run, worker1's process group gets SIGKILL (chunks in hand).
Kill 2: at 30 % of the e-mails and webhooks received, worker2's group gets SIGKILL (sends in
hand). A new worker is started after each. Then everything must drain.

Checks: the run's counts exact; one ShopperEmail row per change, each `sent` and received once
(by Message-ID), or `unknown` (the at-most-once window); one webhook delivery per change, all
delivered, every id received with a valid signature, more than once only where an attempt went
unrecorded; no tracebacks in the surviving processes' logs.
"""

from __future__ import annotations

import logging
import math
import sys
import time

from _drill import (
    CARRIERS,
    Drill,
    DrillFailed,
    Process,
    arguments,
    group_members,
    main,
    seed_orders,
    wait_until,
)
from _drill import _seed_store_and_merchants as seed_store
from _news import HookReceiver, MailCatcher, stable_numbers
from _news_checks import report_figures, verify_emails, verify_logs, verify_webhooks

from harness.ports import free_port

FULL_N, QUICK_N = 10_000, 1_000
EVENT = "shipment.status_changed"


class NewsDrill(Drill):
    """The drill's own state: the sinks, the workers alive, the figures."""

    def __init__(self, *args, mail: MailCatcher, hooks: HookReceiver, **settings) -> None:
        super().__init__(*args, **settings)
        self.mail, self.hooks = mail, hooks
        self.shipment_ids: list[int] = []
        self.expected_status: dict[int, str] = {}  # shipment id → the status it changed to
        self.endpoint_id = 0
        self.merchant_name = ""
        self.started_at = 0.0  # time.time() of the accepted bulk resync
        self.kills = 0
        self.figures: dict[str, int] = {}


def settings_for(smtp_port: int, *, quick: bool) -> dict[str, str]:
    """The drill's settings beyond `Drill.env` (see drills/README.md)."""
    return {
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "EMAIL_TIMEOUT": "5",
        "DEFAULT_FROM_EMAIL": "Resync <no-reply@example.com>",
        "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
        "WEBHOOK_RETRY_BASE_SECONDS": "5",
        "WEBHOOK_DISPATCH_INTERVAL_SECONDS": "15",
        # A row `sending` this long is `unknown` (default 600 s): shortened so the drill does not
        # wait. A `pending` one this long past its time is published again (default 300 s, kept
        # for the full size, whose backlog of sends lasts minutes: a shorter one republishes it).
        "NOTIFY_SENDING_STALE_SECONDS": "20",
        "NOTIFY_PENDING_STALE_SECONDS": "60" if quick else "300",
        "NOTIFY_HORIZON_DAYS": "14",
    }


# --- Phases ---------------------------------------------------------------------------------------


def start_phase(d: NewsDrill) -> dict[str, Process]:
    """Redis, database, sandbox; shipments whose pull is news; the store's choices and endpoint;
    then web, two workers and beat."""
    d.start_redis()
    d.migrate()
    sandbox = d.start_sandbox(latency_ms=50)
    d.django()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command
    from notify.models import NOTIFIABLE_STATUSES

    notifiable = frozenset(str(s) for s in NOTIFIABLE_STATUSES)
    numbers = stable_numbers(CARRIERS, d.args.shipments, epoch=sandbox.epoch, notifiable=notifiable)
    store, users = seed_store(1)
    d.shipment_ids = [pk for pk, _ in seed_orders(store, numbers, prefix="N")]
    d.merchant_name = users[0].username
    configure_store(d, store, notifiable)
    d.report.step(
        f"seeded {len(d.shipment_ids)} pending shipments over {len(CARRIERS)} carriers, each "
        "one status change away; e-mails on for every status; endpoint "
        f"{d.hooks.url} ({EVENT})"
    )
    stack = {
        "web": d.start_web(wait=False),
        "worker1": d.start_worker("worker1", concurrency=d.args.concurrency, wait=False),
        "worker2": d.start_worker("worker2", concurrency=d.args.concurrency, wait=False),
        "beat": d.start_beat(wait=False),
    }
    for service in stack.values():
        service.wait_ready()
    d.report.step(f"settings: {d.describe_settings()}, {describe_news_settings(d)}")
    return stack


def configure_store(d: NewsDrill, store, notifiable: frozenset[str]) -> None:
    """Through the services a merchant's settings page uses."""
    from hooks.services import webhook_endpoint_create
    from notify.services import store_preferences_set

    store_preferences_set(store=store, enabled=True, statuses=sorted(notifiable))
    endpoint = webhook_endpoint_create(store=store, url=d.hooks.url, events=[EVENT])
    d.hooks.secret = endpoint.secret
    d.endpoint_id = endpoint.pk


def describe_news_settings(d: NewsDrill) -> str:
    env = d.env()
    keys = (
        "NOTIFY_SENDING_STALE_SECONDS",
        "NOTIFY_PENDING_STALE_SECONDS",
        "WEBHOOK_DISPATCH_INTERVAL_SECONDS",
        "WEBHOOK_RETRY_BASE_SECONDS",
    )
    return ", ".join(f"{k}={env[k]}" for k in keys)


def kill(d: NewsDrill, worker: Process, replacement: str, when: str) -> None:
    """SIGKILL to the worker's whole process group; nothing of it left; a new worker."""
    pgid = worker.pid
    worker.kill()
    d.kills += 1
    d.report.step(f"kill -9 of {worker.name}'s process group {pgid} {when}")
    gone = wait_until(
        lambda: not group_members(pgid) or None, timeout=5, what="the group to die", interval=0.1
    )
    d.report.check(f"no process of {worker.name}'s group is left", bool(gone), f"pgid {pgid}")
    d.start_worker(replacement, concurrency=d.args.concurrency)


def run_phase(d: NewsDrill, stack: dict[str, Process]) -> int:
    """The merchant's bulk resync; kill 1 at 30 % of it."""
    merchant = d.merchant(d.merchant_name)
    d.started_at = time.time()
    run_id = d.start_bulk_run(merchant)
    merchant.close()
    n = d.args.shipments
    target = math.ceil(0.3 * n)
    run = d.wait_run_done(
        run_id, target, timeout=120 if d.args.quick else 300, what=f"run to reach 30 % ({target})"
    )
    kill(d, stack["worker1"], "worker3", f"at {run.done}/{run.total} of the run")
    return run_id


def sends_phase(d: NewsDrill, stack: dict[str, Process], run_id: int) -> float:
    """Kill 2 at 30 % of what the sinks expect; the run's end (time.time())."""
    expected = 2 * d.args.shipments
    target = math.ceil(0.3 * expected)
    wait_until(
        lambda: d.mail.arrivals.count() + d.hooks.arrivals.count() >= target,
        timeout=300 if d.args.quick else 900,
        what=f"{target} e-mails and webhooks to arrive",
        interval=0.05,
    )
    received = f"{d.mail.arrivals.count()} e-mails + {d.hooks.arrivals.count()} webhooks"
    kill(d, stack["worker2"], "worker4", f"after {received} arrived")
    run = d.wait_run_finished(run_id, timeout=300 if d.args.quick else 1200)
    finished = run.finished_at.timestamp() if run.finished_at else time.time()
    d.report.step(f"run {run_id} {run.state} {finished - d.started_at:.1f}s after the click")
    return finished


def drain_phase(d: NewsDrill) -> None:
    """Wait until no e-mail or delivery is left to do and the sinks have all of them."""
    from django.db import close_old_connections

    from hooks.models import WebhookDelivery
    from notify.models import ShopperEmail

    n = d.args.shipments
    open_states = (ShopperEmail.State.PENDING, ShopperEmail.State.SENDING)
    last = [time.monotonic()]

    def drained() -> bool:
        close_old_connections()
        emails = ShopperEmail.objects.filter(state__in=open_states).count()
        hooks = WebhookDelivery.objects.filter(state="pending").count()
        if time.monotonic() - last[0] > 10:
            d.report.step(
                f"open: {emails} e-mails, {hooks} deliveries; received "
                f"{d.mail.arrivals.count()} e-mails, {d.hooks.arrivals.count()} webhooks"
            )
            last[0] = time.monotonic()
        return (
            emails == 0
            and hooks == 0
            and len(d.hooks.arrivals.counts()) >= n
            and ShopperEmail.objects.count() >= n
        )

    try:
        wait_until(
            drained,
            timeout=300 if d.args.quick else 1200,
            what="every e-mail and webhook to be done",
            interval=0.5,
        )
    except DrillFailed as exc:
        d.report.fail("every e-mail and webhook done", str(exc))
        return
    time.sleep(1)  # a message the server accepted just before the row changed
    d.report.step(f"drained {time.time() - d.started_at:.1f}s after the click")


def verify_run_phase(d: NewsDrill, run_id: int) -> None:
    from shipments.models import Shipment

    n = d.args.shipments
    run = d.check_run_exact(run_id, expected_total=n)
    d.report.check(
        "every shipment changed, none failed",
        run.changed == n and run.failed == 0,
        f"changed={run.changed} unchanged={run.unchanged} failed={run.failed}",
    )
    d.expected_status = dict(Shipment.objects.values_list("id", "status"))
    pending = sum(1 for s in d.expected_status.values() if s == "pending")
    d.report.check("every shipment left `pending`", pending == 0, f"{pending} still pending")


def drill(d: NewsDrill) -> None:
    stack = start_phase(d)
    run_id = run_phase(d, stack)
    run_finished = sends_phase(d, stack, run_id)
    drain_phase(d)
    verify_run_phase(d, run_id)
    verify_emails(d)
    verify_webhooks(d)
    verify_logs(d)
    report_figures(d, run_finished)


if __name__ == "__main__":

    def options(parser) -> None:
        parser.add_argument(
            "--concurrency", type=int, default=1, help="processes of each worker (default 1)"
        )

    args = arguments(__doc__.splitlines()[0], full_n=FULL_N, quick_n=QUICK_N, options=options)
    smtp_port = free_port()
    mail, hooks = MailCatcher(smtp_port).start(), HookReceiver().start()
    try:
        code = main(
            drill,
            NewsDrill(
                "news_out",
                args,
                mail=mail,
                hooks=hooks,
                **settings_for(smtp_port, quick=args.quick),
            ),
        )
    finally:
        mail.stop()
        hooks.stop()
    sys.exit(code)
