"""Settings of the ways in and out — Shopify webhooks, shopper e-mails, webhooks to the
merchant's systems, carrier push — read from the environment by `integration_settings`, which
`resync_site/settings.py` merges into its own (and whose beat tasks it adds to the schedule).
Each block names the part of docs/contract.md it configures."""

from __future__ import annotations

from typing import Any

import environ


def integration_settings(
    env: environ.Env,
    *,
    beat: dict[str, Any],
    carrier_max_retry_delay: float,
    reconcile_interval: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # --- Webhooks to the merchant's systems (docs/contract.md §8, hooks/)
    # First retry after WEBHOOK_RETRY_BASE_SECONDS, then doubling (≤ 1 h, plus jitter) for 24 h.
    # WEBHOOK_ALLOW_PRIVATE_URLS=1 lets endpoints be loopback/private (local development, tests).
    out["WEBHOOK_RETRY_BASE_SECONDS"] = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
    out["WEBHOOK_ALLOW_PRIVATE_URLS"] = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
    out["WEBHOOK_CONNECT_TIMEOUT"] = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.05)
    out["WEBHOOK_READ_TIMEOUT"] = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
    beat["webhook-deliveries-due"] = {  # the safety net for retries and lost messages
        "task": "hooks.tasks.webhook_deliveries_dispatch_due",
        "schedule": env.float("WEBHOOK_DISPATCH_INTERVAL_SECONDS", default=15.0),
    }

    # --- Shopify (docs/contract.md §6)
    # The app's client secret: it keys the HMAC of every webhook. Unset: every webhook answers 401.
    out["SHOPIFY_API_SECRET"] = env.str("SHOPIFY_API_SECRET", default="")
    # Within Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), so a large body is our 413, not a 400.
    out["SHOPIFY_WEBHOOK_MAX_BYTES"] = env.int("SHOPIFY_WEBHOOK_MAX_BYTES", default=2 * 1024 * 1024)
    # Webhook ids are remembered this long (Shopify retries a delivery for a few hours at most).
    out["SHOPIFY_WEBHOOK_RETENTION_DAYS"] = env.int("SHOPIFY_WEBHOOK_RETENTION_DAYS", default=7)

    # --- Shopper e-mails (docs/contract.md §8)
    # https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
    # e.g. smtp://user:password@mail.example.com:587/?tls=True; `./run` uses its sink,
    # smtp://127.0.0.1:1025.
    out.update(env.email_url("EMAIL_URL", default="smtp://127.0.0.1:25"))  # EMAIL_HOST, …
    out["EMAIL_TIMEOUT"] = env.float("EMAIL_TIMEOUT", default=10.0)  # seconds, every SMTP call
    out["DEFAULT_FROM_EMAIL"] = env.str("DEFAULT_FROM_EMAIL", default="Resync <no-reply@localhost>")
    # Absolute links in e-mails (tracking page, unsubscribe) start with this.
    out["SITE_URL"] = env.str("SITE_URL", default="http://127.0.0.1:8000")
    # A shipment shipped more than this many days ago never triggers an e-mail (imported history).
    out["NOTIFY_HORIZON_DAYS"] = env.int("NOTIFY_HORIZON_DAYS", default=14)
    # Transient SMTP failures: tried again after ~base, 2×base, … (full jitter), at most the cap
    # (kept under CARRIER_MAX_RETRY_DELAY: a longer countdown could be redelivered), at most
    # NOTIFY_MAX_ATTEMPTS attempts in all.
    out["NOTIFY_RETRY_BASE_SECONDS"] = env.float("NOTIFY_RETRY_BASE_SECONDS", default=30.0)
    out["NOTIFY_RETRY_MAX_SECONDS"] = min(
        carrier_max_retry_delay, env.float("NOTIFY_RETRY_MAX_SECONDS", default=900.0)
    )
    out["NOTIFY_MAX_ATTEMPTS"] = env.int("NOTIFY_MAX_ATTEMPTS", default=8)
    # The reconciler: a row `sending` this long is marked `unknown` (never resent); a row `pending`
    # this long past its time is published again.
    out["NOTIFY_SENDING_STALE_SECONDS"] = env.int("NOTIFY_SENDING_STALE_SECONDS", default=600)
    out["NOTIFY_PENDING_STALE_SECONDS"] = env.int("NOTIFY_PENDING_STALE_SECONDS", default=300)
    beat["reconcile-shopper-emails"] = {
        "task": "notify.tasks.shopper_emails_reconcile",
        "schedule": reconcile_interval,
    }
    # --- Carrier push in (docs/contract.md §9)
    # 17TRACK signs with SEVENTEENTRACK_API_KEY, AfterShip with AFTERSHIP_WEBHOOK_SECRET (unset:
    # 401). Pushed shipments are pulled every SAFETY_PULL hours until no push came for QUIET
    # hours. Bodies over MAX_BYTES: 413. Settled pushes are kept RETENTION days.
    out["AFTERSHIP_WEBHOOK_SECRET"] = env.str("AFTERSHIP_WEBHOOK_SECRET", default="")
    out["SEVENTEENTRACK_API_KEY"] = env.str(
        "SEVENTEENTRACK_API_KEY", default=""
    )  # as in CARRIER_CREDENTIALS
    out["CARRIER_PUSH_MAX_BYTES"] = env.int("CARRIER_PUSH_MAX_BYTES", default=2 * 1024 * 1024)
    out["CARRIER_PUSH_SAFETY_PULL_HOURS"] = env.float(
        "CARRIER_PUSH_SAFETY_PULL_HOURS", default=24.0
    )
    out["CARRIER_PUSH_QUIET_HOURS"] = env.float("CARRIER_PUSH_QUIET_HOURS", default=48.0)
    out["CARRIER_PUSH_RETENTION_DAYS"] = env.int("CARRIER_PUSH_RETENTION_DAYS", default=7)
    return out
