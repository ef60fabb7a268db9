"""Signing in and out: where a user lands, and the sign-out page.

A merchant page needs a store (`shipments.scoping`): a signed-in user without one would land on
a bare 404. Staff without a store go to the admin instead, anybody else to a page that says why
there is nothing to see. Signing out is a POST (Django 5); a GET shows the button for it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse

from shipments.scoping import stores_for_user


def storeless_destination(user: Any) -> str | None:
    """Where a signed-in user without any store goes (`None`: the user has a store)."""
    if stores_for_user(user).exists():
        return None
    return reverse("admin:index") if user.is_staff else reverse("no_store")


class SignInView(auth_views.LoginView):
    """Django's sign-in page; a user without a store is sent where they can do something
    (an admin page that staff asked for with `?next=` is kept)."""

    def get_success_url(self) -> str:
        url = super().get_success_url()
        elsewhere = storeless_destination(self.request.user)
        if elsewhere is None:
            return url
        if self.request.user.is_staff and url.startswith(reverse("admin:index")):
            return url
        return elsewhere


class SignOutView(auth_views.LogoutView):
    """POST signs out (Django's own); GET shows a page with the button that does it."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "registration/sign_out.html")


def home(request: HttpRequest) -> HttpResponseRedirect:
    """`/`: the Shipment tab, or for a signed-in user without a store, their own landing."""
    if request.user.is_authenticated:
        elsewhere = storeless_destination(request.user)
        if elsewhere is not None:
            return redirect(elsewhere)
    return redirect("shipments:list")


@login_required
def no_store(request: HttpRequest) -> HttpResponse:
    """The page for a signed-in user whom no store has added (yet)."""
    elsewhere = storeless_destination(request.user)
    if elsewhere != reverse("no_store"):
        return redirect(elsewhere or "shipments:list")
    return render(request, "registration/no_store.html")
