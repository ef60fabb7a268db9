"""The merchant's endpoints: create, change, rotate the secret, delete."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from shipments.models import Store

from ..addresses import RefusedURL, check_url
from ..models import DeliveryState, WebhookEndpoint, WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105  (a label, not a secret)
MAX_ENDPOINTS_PER_STORE = 20


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def allow_private_urls() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def _clean_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({"url": [_("Enter the URL that should receive the webhooks.")]})
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > 2000:
            raise ValidationError(_("The URL is too long."))
        check_url(url, allow_private=allow_private_urls())
    except RefusedURL as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    except ValidationError as exc:
        raise ValidationError({"url": [_("Enter a valid http:// or https:// URL.")]}) from exc
    return url


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": [_("Give the events as a list of names.")]})
    known = set(WebhookEvent.values)
    unknown = sorted(set(events) - known)
    if unknown:
        raise ValidationError(
            {
                "events": [
                    _("Unknown events: %(unknown)s (known: %(known)s).")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(WebhookEvent.values)}
                ]
            }
        )
    if not events:
        raise ValidationError({"events": [_("Choose at least one event.")]})
    return [e for e in WebhookEvent.values if e in events]


def webhook_endpoint_create(*, store: Store, url: Any, events: Any) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret (the caller shows it once)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, clean, value in (("url", _clean_url, url), ("events", _clean_events, events)):
        try:
            cleaned[name] = clean(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not errors and store.webhook_endpoints.count() >= MAX_ENDPOINTS_PER_STORE:
        errors["url"] = [_("A store can have at most %d endpoints.") % MAX_ENDPOINTS_PER_STORE]
    if errors:
        raise ValidationError(errors)
    return WebhookEndpoint.objects.create(store=store, secret=new_secret(), **cleaned)


def webhook_endpoint_update(
    *,
    store: Store,
    endpoint_id: int,
    url: Any = None,
    events: Any = None,
    active: bool | None = None,
) -> WebhookEndpoint | None:
    """Change what is given (None: unchanged). Turning an endpoint on again forgets its failures;
    turning it off gives up what it still had to deliver."""
    endpoint = WebhookEndpoint.objects.filter(store=store, pk=endpoint_id).first()
    if endpoint is None:
        return None
    errors: dict[str, list[str]] = {}
    for name, clean, value in (("url", _clean_url, url), ("events", _clean_events, events)):
        if value is None:
            continue
        try:
            setattr(endpoint, name, clean(value))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if active is True and not endpoint.is_active:
            endpoint.is_active, endpoint.failing_since, endpoint.disabled_at = True, None, None
        elif active is False and endpoint.is_active:
            endpoint.is_active = False
            endpoint.deliveries.filter(state=DeliveryState.PENDING).update(
                state=DeliveryState.FAILED, claimed_until=None
            )
        endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, store: Store, endpoint_id: int) -> WebhookEndpoint | None:
    """A new secret, at once: attempts from now on are signed with it."""
    endpoint = WebhookEndpoint.objects.filter(store=store, pk=endpoint_id).first()
    if endpoint is None:
        return None
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_endpoint_delete(*, store: Store, endpoint_id: int) -> bool:
    deleted, _counts = WebhookEndpoint.objects.filter(store=store, pk=endpoint_id).delete()
    return bool(deleted)
