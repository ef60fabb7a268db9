"""What people read about resyncs: every user-facing sentence of the sync engine, in one place.

Views, the public pages and the services take their sentences from here, so a wording (and its
translation) is changed once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .carriers.base import CarrierError
from .cooldowns import REASON_IN_PROGRESS
from .models import ResyncRequest

SUCCESS_MESSAGE = gettext_lazy(
    "Shipment details are re-synced successfully! "
    "The latest info is now updated on the tracking page as well."
)
# A resync that brought nothing new says so, with the time of the carrier's latest event.
NOTHING_NEW = gettext_lazy("Nothing new from the carrier since %(when)s.")
NOTHING_YET = gettext_lazy("The carrier has no news for this shipment yet.")
# What a shopper reads when a resync failed: never the carrier's text nor the merchant's reason.
SHOPPER_FAILED = gettext_lazy(
    "We could not get the latest news from the carrier just now. Please try again later."
)
# What a shopper reads when a resync brought news: the page they look at is the tracking page.
SHOPPER_UPDATED = gettext_lazy("Updated: this page now shows the carrier's latest news.")
RESYNC_STARTED = gettext_lazy("Resync started.")
RESYNC_STARTED_NO_JS = gettext_lazy(
    "Resync started. Reload this page in a few seconds to see the latest info."
)
ENQUEUE_FAILED = gettext_lazy("Resync is temporarily unavailable. Please try again shortly.")
UNAVAILABLE = gettext_lazy("Resync is temporarily unavailable. Please try again in a few seconds.")

ERROR_MESSAGES = {
    "not_found": gettext_lazy("The carrier does not know this tracking number (yet)."),
    "rejected": gettext_lazy("The carrier rejected this tracking number."),
    "bad_credentials": gettext_lazy(
        "The carrier refused our access credentials; our team has been alerted."
    ),
    "rate_limited": gettext_lazy("The carrier is busy right now; please try again in a while."),
    "throttled": gettext_lazy("The carrier is busy right now; please try again in a while."),
    "unavailable": gettext_lazy("The carrier could not be reached; please try again later."),
    "unknown_carrier": gettext_lazy("This carrier is not supported."),
    "no_carrier": gettext_lazy(
        "No carrier is set for this shipment yet: choose its carrier first."
    ),
    # The carrier answered, but we could not save what it said (our side, not the carrier's).
    "not_stored": gettext_lazy(
        "The carrier's latest news could not be saved; our team has been alerted. "
        "It is tried again at the next sync."
    ),
}


def humanize_wait(seconds: int) -> str:
    """`252` → "4 min 12 s"; `3600` → "1 h 0 min"; `9` → "9 s"."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def clock(seconds: int) -> str:
    """A countdown as the Resync button shows it: `252` → "4:12", `3600` → "60:00"."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def error_message(error: CarrierError | str) -> str:
    """What a failed pull means, in the merchant's words (never the carrier's own text)."""
    code = error if isinstance(error, str) else error.code
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["unavailable"]))


def refusal_message(reason: str, retry_after: int) -> str:
    """Why a resync was refused and when it is possible again."""
    wait = humanize_wait(retry_after)
    if reason == ResyncRequest.RefusedReason.RATE_LIMITED:
        # The per-IP limit of the public resync: about the shopper's connection, not about the
        # shipment (which may never have been resynced).
        return _("Too many resyncs from your connection. Please try again in %(wait)s.") % {
            "wait": wait
        }
    if reason == REASON_IN_PROGRESS:
        return _("A resync of this store is in progress. You can resync again in %(wait)s.") % {
            "wait": wait
        }
    return _("You can resync again in %(wait)s.") % {"wait": wait}


def result_message(*, changed: bool, latest_event_at: dt.datetime | None, time_zone: str) -> str:
    """A finished resync's sentence: the success sentence when the status or the events changed;
    otherwise that the carrier has nothing new since its latest event (in the store's zone)."""
    if changed:
        return str(SUCCESS_MESSAGE)
    if latest_event_at is None:
        return str(NOTHING_YET)
    local = latest_event_at.astimezone(zoneinfo.ZoneInfo(time_zone))
    # The merchant pages' one format ("20 Nov 2026, 14:30", resync_site/formats/).
    return str(NOTHING_NEW) % {"when": date_format(local, "DATETIME_FORMAT")}


def shopper_job_message(
    *,
    state: str,
    message: str,
    changed: bool | None = None,
    latest_event_at: dt.datetime | None = None,
    time_zone: str | None = None,
) -> str:
    """The `message` of a shopper's job status (the contract's sentence): a failure is the
    shopper's own sentence, never the carrier's text nor the merchant's reason. Given the store's
    `time_zone`, a success is written again in the active language (the stored one is the
    worker's English)."""
    if state == "failed":
        return str(SHOPPER_FAILED)
    if state == "succeeded" and time_zone is not None:
        return result_message(
            changed=bool(changed), latest_event_at=latest_event_at, time_zone=time_zone
        )
    return message


def shopper_display_message(
    *,
    state: str,
    changed: bool,
    message: str,
    latest_event_at: dt.datetime | None = None,
    time_zone: str | None = None,
) -> str:
    """What the tracking page shows a shopper about a finished resync: plain words about the
    page they are on ("Updated: …"), not the merchant's sentence about "the tracking page"."""
    if state == "failed":
        return str(SHOPPER_FAILED)
    if state == "succeeded" and changed:
        return str(SHOPPER_UPDATED)
    return shopper_job_message(
        state=state,
        message=message,
        changed=changed,
        latest_event_at=latest_event_at,
        time_zone=time_zone,
    )
