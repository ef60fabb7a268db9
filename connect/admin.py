"""Django admin for the ways in: API keys (the hash is never editable)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created by merchants or `manage.py api_key create` (the raw key is shown there,
    once); ops may look, rename and revoke (set "revoked")."""

    list_display = ("name", "prefix", "store", "created_at", "last_used_at", "revoked_at")
    list_filter = ("store",)
    search_fields = ("name", "prefix", "store__slug")
    list_select_related = ("store",)
    readonly_fields = ("store", "prefix", "key_hash", "created_by", "created_at", "last_used_at")
    fields = (
        "store",
        "name",
        "prefix",
        "key_hash",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
