"""The one way merchant views find the signed-in user's current store and scope queries to it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from .models import Store

SESSION_KEY = "current_store_id"


class InAnotherOfYourStores(Http404):
    """Not found in the current store, but in another store the user is a member of: the 404
    page offers to switch (`error_views.page_not_found`). Raise it only for members."""

    def __init__(self, store: Store) -> None:
        super().__init__("Not in the current store")
        self.store = store


def stores_for_user(user: Any) -> QuerySet[Store]:
    if not getattr(user, "is_authenticated", False):
        return Store.objects.none()
    return Store.objects.filter(memberships__user=user).order_by("name")


def current_store(request: HttpRequest) -> Store:
    """The store chosen in this session (see `switch_store`), else the user's first store.

    A user without any membership gets 404: merchant pages show nothing to outsiders.
    """
    stores = stores_for_user(request.user)
    chosen = request.session.get(SESSION_KEY)
    store = stores.filter(pk=chosen).first() if chosen else None
    if store is None:
        store = stores.first()
    if store is None:
        raise Http404("No store")
    return store


def switch_store(request: HttpRequest, store_id: int) -> Store:
    """Make `store_id` the current store if the user belongs to it (else 404)."""
    store = stores_for_user(request.user).filter(pk=store_id).first()
    if store is None:
        raise Http404("No store")
    request.session[SESSION_KEY] = store.pk
    return store


def merchant_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, then `request.store` is the current store (404 for users without one)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.store = current_store(request)
        return view(request, *args, **kwargs)

    return wrapper
