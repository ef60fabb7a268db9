from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LookupForm(forms.Form):
    """Order number + e-mail. Validation looks at the input only, never at the database."""

    order_number = forms.CharField(
        label=_("Order number"),
        max_length=80,
        help_text=_("As shown in your order confirmation e-mail."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("The address you used when you placed the order."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    store = forms.SlugField(required=False, widget=forms.HiddenInput)


class NumberLookupForm(forms.Form):
    """A tracking number alone: the parcel's status and scans, nothing of the order."""

    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=80,
        help_text=_("As shown in your shipping e-mail or on the parcel."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    store = forms.SlugField(required=False, widget=forms.HiddenInput)
