"""Sending one recorded e-mail over SMTP, never twice, and the reconciler that keeps rows moving.

The window: a row is claimed (`pending` → `sending`, one conditional UPDATE, committed) before
SMTP is spoken, so two deliveries of the task never both send. If the worker dies after the SMTP
server accepted the message and before `sent` is written, the row stays `sending`; the
reconciler turns such rows into `unknown` after `NOTIFY_SENDING_STALE_SECONDS` and never sends
them again (at most one e-mail, maybe none). A failure before the server had the whole message
(no connection, a 4xx/5xx answer to the envelope or the data) is known not to have sent it: 4xx
and connection problems go back to `pending` and are tried again with backoff, 5xx fail for good.
A connection lost in the middle of the data is ambiguous: `unknown` too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from ..content import build_message
from ..models import ShopperEmail
from ..selectors import store_preferences

logger = logging.getLogger(__name__)
State = ShopperEmail.State


@dataclass(frozen=True)
class SendOutcome:
    state: str
    retry_in: float | None = None  # seconds: publish again after that long


class _Transient(Exception):
    pass


class _Permanent(Exception):
    pass


class _Ambiguous(Exception):
    pass


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter, capped below the broker's redelivery horizon."""
    base = float(settings.NOTIFY_RETRY_BASE_SECONDS)
    cap = float(settings.NOTIFY_RETRY_MAX_SECONDS)
    return min(cap, random.uniform(base / 2, base * (2 ** max(attempt - 1, 0))))


def _set(email_id: object, from_state: str, **fields: object) -> bool:
    return ShopperEmail.objects.filter(pk=email_id, state=from_state).update(**fields) == 1


def _refusal(code: int, text: object) -> Exception:
    message = f"{code} {text!r}"[:500]
    return _Permanent(message) if code >= 500 else _Transient(message)


def _deliver(message: object) -> None:
    """Speak SMTP; classify every failure by whether the message may have gone."""
    connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        connection.open()
    except smtplib.SMTPResponseException as exc:
        raise _refusal(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise _Transient(f"cannot connect: {exc}"[:500]) from exc
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise _refusal(code, text) from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise _Ambiguous(f"connection lost while sending: {exc}"[:500]) from exc
    except smtplib.SMTPResponseException as exc:  # sender or data refused: not delivered
        raise _refusal(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise _Ambiguous(f"{type(exc).__name__}: {exc}"[:500]) from exc
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()


def _still_wanted(email: ShopperEmail) -> str:
    """Why a recorded e-mail must not go out any more ("" when it may)."""
    if email.is_test:
        return ""
    if email.order_id and hasattr(email.order, "shopper_unsubscribe"):
        return "unsubscribed"
    enabled, statuses = store_preferences(store=email.store)
    if not enabled:
        return "notifications turned off"
    if email.status not in statuses:
        return "status no longer selected"
    return ""


def shopper_email_send(*, email_id: str) -> SendOutcome:
    """Send the e-mail `email_id` if it is still `pending` (a redelivered task does nothing)."""
    email = (
        ShopperEmail.objects.select_related("store", "shipment", "order__shopper_unsubscribe")
        .filter(pk=email_id)
        .first()
    )
    if email is None or email.state != State.PENDING:
        return SendOutcome(state=email.state if email else "missing")
    if reason := _still_wanted(email):
        _set(email.pk, State.PENDING, state=State.CANCELLED, last_error=reason)
        return SendOutcome(state=State.CANCELLED)
    message = build_message(email)  # before the claim: a template error sends nothing
    now = timezone.now()
    claimed = _set(
        email.pk, State.PENDING, state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return SendOutcome(state="claimed elsewhere")
    attempt = email.attempts + 1
    try:
        _deliver(message)
    except _Transient as exc:
        if attempt >= settings.NOTIFY_MAX_ATTEMPTS:
            _set(email.pk, State.SENDING, state=State.FAILED, last_error=str(exc))
            logger.warning("shopper e-mail %s failed after %s attempts: %s", email.pk, attempt, exc)
            return SendOutcome(state=State.FAILED)
        delay = retry_delay(attempt)
        _set(
            email.pk,
            State.SENDING,
            state=State.PENDING,
            last_error=str(exc),
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        logger.info("shopper e-mail %s: %s; again in %.0f s", email.pk, exc, delay)
        return SendOutcome(state=State.PENDING, retry_in=delay)
    except _Permanent as exc:
        _set(email.pk, State.SENDING, state=State.FAILED, last_error=str(exc))
        logger.warning("shopper e-mail %s refused: %s", email.pk, exc)
        return SendOutcome(state=State.FAILED)
    except _Ambiguous as exc:
        _set(email.pk, State.SENDING, state=State.UNKNOWN, last_error=str(exc))
        logger.warning("shopper e-mail %s may or may not have gone: %s", email.pk, exc)
        return SendOutcome(state=State.UNKNOWN)
    _set(email.pk, State.SENDING, state=State.SENT, sent_at=timezone.now(), last_error="")
    return SendOutcome(state=State.SENT)


def shopper_emails_reconcile(*, now: dt.datetime) -> list[str]:
    """Beat: rows stuck in `sending` (a worker died mid-send) become `unknown`, never resent;
    rows `pending` well past their time (a lost message, a broker that was down) are returned
    to be published again (the claim makes a duplicate harmless)."""
    stale = now - dt.timedelta(seconds=settings.NOTIFY_SENDING_STALE_SECONDS)
    ShopperEmail.objects.filter(state=State.SENDING, claimed_at__lt=stale).update(
        state=State.UNKNOWN, last_error="the worker stopped while sending; not resent"
    )
    lost = now - dt.timedelta(seconds=settings.NOTIFY_PENDING_STALE_SECONDS)
    due = ShopperEmail.objects.filter(state=State.PENDING).filter(
        next_attempt_at__lt=lost
    ) | ShopperEmail.objects.filter(
        state=State.PENDING, next_attempt_at__isnull=True, created_at__lt=lost
    )
    return [str(pk) for pk in due.values_list("pk", flat=True)[:1000]]
