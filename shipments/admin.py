"""Django admin for ops: every model, searchable and filterable; events and the audit read-only."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from resync_site.client_ip import client_ip

from . import services
from .carriers import catalogue
from .models import (
    Membership,
    Order,
    ResyncJob,
    ResyncRequest,
    Shipment,
    Store,
    StoreCarrierMapping,
    SyncRun,
    SyncRunItem,
    TrackingEvent,
)
from .redis_client import RedisUnavailable


class ReadOnlyAdminMixin:
    """Rows written only by the system: ops may look, never edit."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class CarrierMappingInline(admin.TabularInline):
    model = StoreCarrierMapping
    extra = 0
    fields = ["name", "carrier", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "shop_domain",
        "shop_disconnected_at",
        "time_zone",
        "default_language",
        "created_at",
    ]
    search_fields = ["name", "slug", "shop_domain"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, CarrierMappingInline]
    actions = ["clear_bulk_cooldown"]

    @admin.action(description=_("Clear bulk resync cooldown"))
    def clear_bulk_cooldown(self, request: HttpRequest, queryset: QuerySet[Store]) -> None:
        try:
            cleared = sum(
                services.store_clear_bulk_cooldown(store=s, user=request.user) for s in queryset
            )
        except RedisUnavailable:
            self.message_user(request, _("Redis is unavailable."), messages.ERROR)
            return
        self.message_user(
            request,
            _("Bulk cooldown cleared on %(n)d store(s).") % {"n": cleared},
            messages.SUCCESS,
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "store", "role", "created_at"]
    list_filter = ["store", "role"]
    list_select_related = ["user", "store"]
    search_fields = ["user__username", "user__email", "store__name"]
    autocomplete_fields = ["user", "store"]


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0
    fields = ["carrier", "tracking_number", "status", "shipped_at", "last_synced_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_number", "store", "customer_email", "placed_at"]
    list_filter = ["store"]
    list_select_related = ["store"]
    search_fields = ["order_number", "customer_email", "customer_name"]
    date_hierarchy = "placed_at"
    autocomplete_fields = ["store"]
    inlines = [ShipmentInline]


class TrackingEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TrackingEvent
    extra = 0
    fields = ["occurred_at", "status", "description", "location", "raw_code"]
    readonly_fields = fields
    ordering = ["-occurred_at"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "tracking_number",
        "carrier",
        "store",
        "order",
        "status",
        "shipped_at",
        "last_synced_at",
        "last_sync_outcome",
    ]
    list_filter = ["store", "carrier", "status", "last_sync_outcome"]
    list_select_related = ["store", "order"]
    search_fields = ["tracking_number", "order__order_number", "order__customer_email"]
    date_hierarchy = "shipped_at"
    readonly_fields = ["public_token", "last_synced_at", "created_at", "updated_at"]
    autocomplete_fields = ["store", "order"]
    inlines = [TrackingEventInline]
    actions = ["resync_selected", "clear_cooldown"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Besides the fixed actions, one "Set carrier to X and pull" per catalogue carrier."""
        actions = super().get_actions(request)
        for info in catalogue.CARRIERS:
            name = f"set_carrier_{info.code}"
            description = _("Set carrier to %(carrier)s and pull (old events go)") % {
                "carrier": info.name
            }
            actions[name] = (_set_carrier_action(info.code), name, description)
        return actions

    @admin.action(description=_("Resync selected shipments (bypasses the cooldown)"))
    def resync_selected(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        accepted = 0
        try:
            for shipment in queryset:
                verdict = services.shipment_resync(
                    shipment=shipment,
                    source="ops",
                    user=request.user,
                    ip_address=client_ip(request),
                    force=True,
                )
                accepted += verdict.accepted
        except RedisUnavailable:
            self.message_user(
                request,
                _("Redis or the task broker is unavailable; %(n)d resync(s) queued.")
                % {"n": accepted},
                messages.ERROR,
            )
            return
        self.message_user(
            request, _("%(n)d shipment(s) queued for resync.") % {"n": accepted}, messages.SUCCESS
        )

    @admin.action(description=_("Clear resync cooldown"))
    def clear_cooldown(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        try:
            cleared = sum(
                services.shipment_clear_cooldown(shipment=s, user=request.user) for s in queryset
            )
        except RedisUnavailable:
            self.message_user(request, _("Redis is unavailable."), messages.ERROR)
            return
        self.message_user(
            request,
            _("Cooldown cleared on %(n)d shipment(s).") % {"n": cleared},
            messages.SUCCESS,
        )


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "shipment", "status", "description", "location"]
    list_filter = ["status", "shipment__carrier", "shipment__store"]
    list_select_related = ["shipment"]
    search_fields = ["shipment__tracking_number", "description"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "store",
        "window",
        "source",
        "requested_by",
        "state",
        "total",
        "done",
        "changed",
        "unchanged",
        "failed",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "store", "window", "source"]
    list_select_related = ["store", "requested_by"]
    search_fields = ["store__name", "store__slug"]


@admin.register(SyncRunItem)
class SyncRunItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["run", "shipment", "carrier", "outcome", "error", "finished_at"]
    list_filter = ["outcome", "carrier"]
    list_select_related = ["run__store", "shipment"]
    search_fields = ["shipment__tracking_number"]


@admin.register(ResyncJob)
class ResyncJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "shipment", "source", "state", "changed", "created_at", "finished_at"]
    list_filter = ["state", "source", "shipment__carrier"]
    list_select_related = ["shipment"]
    search_fields = ["shipment__tracking_number"]


@admin.register(ResyncRequest)
class ResyncRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "store",
        "kind",
        "source",
        "user",
        "shipment",
        "window",
        "outcome",
        "ip_address",
        "forced",
        "retry_after",
    ]
    list_filter = ["store", "kind", "source", "accepted", "refused_reason", "forced"]
    list_select_related = ["store", "user", "shipment"]
    search_fields = ["shipment__tracking_number", "user__username", "ip_address"]
    date_hierarchy = "created_at"

    @admin.display(description="outcome", ordering="accepted")
    def outcome(self, obj: ResyncRequest) -> str:
        """ "accepted", "refused (cooldown)", or a minute of counted refusals: "refused ×57
        (per-IP limit)" (services.refusals)."""
        return obj.verdict


def _set_carrier_action(code: str) -> Any:
    def set_carrier(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Shipment]
    ) -> None:
        by_store: dict[int, list[int]] = defaultdict(list)
        for pk, store_id in queryset.values_list("pk", "store_id"):
            by_store[store_id].append(pk)
        changed = 0
        size = services.MAX_BULK_CORRECTION
        for store_id, ids in by_store.items():
            for start in range(0, len(ids), size):
                changed += services.shipments_set_carrier(
                    store_id=store_id,
                    shipment_ids=ids[start : start + size],
                    carrier=code,
                    user=request.user,
                )
        modeladmin.message_user(
            request,
            _("%(count)d shipments now use %(carrier)s; they are being pulled.")
            % {"count": changed, "carrier": code},
            messages.SUCCESS,
        )

    return set_carrier
