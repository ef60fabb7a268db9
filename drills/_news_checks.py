"""The checks and figures of `news_out.py`: the database's e-mail and delivery rows against what
the SMTP sink and the webhook receiver got."""

from __future__ import annotations

from collections import Counter
from typing import Any

EVENT = "shipment.status_changed"


def _sample(items: Any, k: int = 5) -> list[Any]:
    return list(items)[:k]


def _killed_processes(d: Any) -> int:
    """Pool processes that died with a send in hand, at most: each kill took a worker's pool."""
    return d.kills * d.args.concurrency


def verify_emails(d: Any) -> None:
    """One row per change; each `sent` row received once, `unknown` ones at most once."""
    from django.db import close_old_connections

    from notify.content import message_id
    from notify.models import ShopperEmail

    close_old_connections()
    report = d.report
    n = d.args.shipments
    rows = list(
        ShopperEmail.objects.filter(is_test=False).values_list(
            "pk", "shipment_id", "status", "state", "to_email"
        )
    )
    changes = set(d.expected_status.items())
    recorded = Counter((shipment_id, status) for _pk, shipment_id, status, _s, _t in rows)
    report.check(
        f"one ShopperEmail row per status change ({n})",
        len(rows) == n and set(recorded) == changes and max(recorded.values(), default=0) == 1,
        f"{len(rows)} rows, {len(set(recorded) - changes)} for no change, "
        f"{len(changes - set(recorded))} changes without a row",
    )
    states = Counter(state for _pk, _sh, _st, state, _t in rows)
    report.check(
        "every e-mail row `sent` or `unknown` (none pending, sending, failed, cancelled)",
        set(states) <= {"sent", "unknown"},
        f"states {dict(states)}",
    )
    ids = {message_id(ShopperEmail(pk=pk)): (state, to) for pk, _sh, _st, state, to in rows}
    received = d.mail.arrivals.counts()
    twice = [key for key, count in received.items() if count > 1]
    stray = [key for key in received if key not in ids]
    report.check(
        "no e-mail received twice (by Message-ID), none that has no row",
        not twice and not stray and not d.mail.unreadable,
        f"{len(twice)} twice {_sample(twice)}, {len(stray)} without a row, "
        f"{d.mail.unreadable} without a Message-ID",
    )
    sent = {key for key, (state, _to) in ids.items() if state == "sent"}
    unknown = {key for key, (state, _to) in ids.items() if state == "unknown"}
    missing = sent - set(received)
    report.check(
        "every `sent` e-mail received by the sink",
        not missing,
        f"{len(missing)} missing {_sample(missing)}",
    )
    wrong_to = [key for key in received if key in ids and d.mail.to_of.get(key) != ids[key][1]]
    report.check("each e-mail went to its order's shopper", not wrong_to, f"{_sample(wrong_to)}")
    arrived_unknown = len(unknown & set(received))
    report.check(
        "received (of `sent` rows) + unknown == changes",
        len(sent & set(received)) + len(unknown) == n,
        f"{len(sent & set(received))} + {len(unknown)} = "
        f"{len(sent & set(received)) + len(unknown)} (of the unknown, {arrived_unknown} "
        "arrived after all)",
    )
    report.check(
        "`unknown` only for sends a kill interrupted",
        len(unknown) <= _killed_processes(d),
        f"{len(unknown)} unknown, at most {_killed_processes(d)} sends in hand at the kills",
    )
    d.figures["emails_unknown"] = len(unknown)


def verify_webhooks(d: Any) -> None:
    """One delivery per change, all delivered, every id received; extra copies only where an
    attempt was never recorded (its sender died after the POST)."""
    from django.db import close_old_connections
    from django.db.models import Count

    from hooks.models import WebhookAttempt, WebhookDelivery

    close_old_connections()
    report = d.report
    n = d.args.shipments
    rows = list(
        WebhookDelivery.objects.filter(endpoint_id=d.endpoint_id).values_list(
            "uid", "shipment_id", "event", "state"
        )
    )
    per_change = Counter((shipment_id, event) for _uid, shipment_id, event, _state in rows)
    wanted = {(shipment_id, EVENT) for shipment_id in d.expected_status}
    report.check(
        f"one webhook delivery per (endpoint, event, change) ({n})",
        len(rows) == n and set(per_change) == wanted and max(per_change.values(), default=0) == 1,
        f"{len(rows)} rows for {len(per_change)} (shipment, event) pairs",
    )
    states = Counter(state for _uid, _sh, _ev, state in rows)
    report.check(
        "every delivery delivered, none failed or pending",
        states == Counter({"delivered": n}),
        f"states {dict(states)}",
    )
    attempts = dict(
        WebhookAttempt.objects.filter(delivery__endpoint_id=d.endpoint_id)
        .values_list("delivery__uid")
        .annotate(k=Count("id"))
        .order_by()
    )
    not_ok = WebhookAttempt.objects.filter(delivery__endpoint_id=d.endpoint_id).exclude(
        status_code=200
    )
    report.check(
        "every recorded attempt answered 200",
        not not_ok.exists(),
        f"{not_ok.count()} attempts not 200",
    )
    received = d.hooks.arrivals.counts()
    uids = {str(uid) for uid, _sh, _ev, _st in rows}
    missing = uids - set(received)
    stray = set(received) - uids
    report.check(
        "every delivery id received with a valid signature (none forged, none unknown)",
        not missing and not stray and not d.hooks.bad,
        f"{len(missing)} missing, {len(stray)} unknown ids, {len(d.hooks.bad)} bad: "
        f"{_sample(d.hooks.bad, 3)}",
    )
    recorded = {str(uid): k for uid, k in attempts.items()}
    twice = {uid: k for uid, k in received.items() if k > 1}
    unexplained = [uid for uid, k in twice.items() if k <= recorded.get(uid, 0)]
    unrecorded = sum(max(0, k - recorded.get(uid, 0)) for uid, k in received.items())
    report.check(
        "a delivery received twice only when an attempt went unrecorded (sender killed)",
        not unexplained and unrecorded <= _killed_processes(d),
        f"{len(twice)} received more than once, {unrecorded} unrecorded attempts "
        f"(at most {_killed_processes(d)}), unexplained {_sample(unexplained)}",
    )
    d.figures["hooks_twice"] = len(twice)


def verify_logs(d: Any) -> None:
    """The run reconciler's resumes; no tracebacks where no process was killed."""
    logs = "".join(s.all_output() for s in d.services if s.name.startswith("worker"))
    d.report.step(
        f"reconciler: {logs.count('stalled since')} run resume(s) logged; sandbox "
        f"{d.sandbox.stats()['requests']} requests"
    )
    d.check_no_tracebacks(*[s for s in d.services if s.name in ("web", "beat", "worker3")])


def _rate(arrivals: Any, started_at: float) -> tuple[int, float, float, float]:
    """(distinct keys, per second from first to last arrival, s from the click to the first and
    to the last)."""
    span = arrivals.span()
    distinct = len(arrivals.counts())
    if span is None:
        return distinct, 0.0, 0.0, 0.0
    first, last = span
    return distinct, distinct / max(last - first, 1e-9), first - started_at, last - started_at


def report_figures(d: Any, run_finished: float) -> None:
    mails, mail_rate, mail_first, mail_last = _rate(d.mail.arrivals, d.started_at)
    hooks, hook_rate, hook_first, hook_last = _rate(d.hooks.arrivals, d.started_at)
    d.report.step(
        f"FIGURES {d.args.shipments} changes, {d.db.kind}: run {run_finished - d.started_at:.1f}s; "
        f"e-mails {mails} received + {d.figures.get('emails_unknown', 0)} unknown, "
        f"{mail_rate:.0f}/s (first {mail_first:.1f}s, last {mail_last:.1f}s after the click); "
        f"webhooks {hooks} delivered ({d.figures.get('hooks_twice', 0)} received twice), "
        f"{hook_rate:.0f}/s (first {hook_first:.1f}s, last {hook_last:.1f}s after the click)"
    )
