"""The status page in the Django admin: its settings (automatic P1 publishing),
components and groups, maintenance windows, and read-only views of entries and
subscribers. Entries are published and worded in the console, through the
services; maintenance saved here goes through the same service as the console's."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from incidents.models import (
    ComponentGroup,
    MaintenanceWindow,
    StatusComponent,
    StatusEntry,
    StatusPageSettings,
    StatusSubscriber,
)
from incidents.status.selectors import status_cache_clear
from incidents.status.services import maintenance_window_save


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ForgetsThePage:
    """Saving changes what the public page shows: forget its cached copy."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        status_cache_clear()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        status_cache_clear()


@admin.register(StatusPageSettings)
class StatusPageSettingsAdmin(ForgetsThePage, admin.ModelAdmin):
    list_display = ["__str__", "name", "auto_publish_p1"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not StatusPageSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ComponentGroup)
class ComponentGroupAdmin(ForgetsThePage, admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]


@admin.register(StatusComponent)
class StatusComponentAdmin(ForgetsThePage, admin.ModelAdmin):
    """Group, order, public description and default title of a public service
    on the status page."""

    list_display = ["service", "group", "position", "default_title"]
    list_editable = ["group", "position"]
    list_select_related = ["service", "group"]
    autocomplete_fields = ["service"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "ends_at", "public_title", "reason", "cancelled_at"]
    list_filter = ["cancelled_at"]
    search_fields = ["public_title", "reason"]
    filter_horizontal = ["services"]
    readonly_fields = ["created_by", "created_at"]
    date_hierarchy = "starts_at"

    def save_model(
        self, request: HttpRequest, obj: MaintenanceWindow, form: Any, change: bool
    ) -> None:
        maintenance_window_save(
            window=obj, by=request.user, services=form.cleaned_data["services"]
        )

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        # The service set the services already.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(StatusEntry)
class StatusEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "status", "stage", "published_at", "resolved_at"]
    list_filter = ["status", "stage"]
    list_select_related = ["incident"]
    search_fields = ["title"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatusSubscriber)
class StatusSubscriberAdmin(ReadOnly, admin.ModelAdmin):
    """Subscribers confirmed their address; an admin may remove one."""

    list_display = ["__str__", "kind", "confirmed_at"]
    list_filter = ["kind"]
    search_fields = ["email", "webhook_url"]
    exclude = ["secret"]
