"""The admin: configuration is edited here; incidents and their logs are shown
read-only, because every change to an incident goes through the services (and the
timeline is append-only)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from incidents import selectors
from incidents.models import (
    Alert,
    AlertDelivery,
    ApiToken,
    BusinessCalendar,
    Category,
    Holiday,
    Incident,
    IncidentEvent,
    IncidentNote,
    Integration,
    LifecyclePolicy,
    Notification,
    PriorityMatrixCell,
    Problem,
    Service,
    SlaPolicy,
    SlaSpan,
    StakeholderUpdate,
    Team,
    WebhookEndpoint,
    WorkingHours,
)
from incidents.models.alerts import token_generate, token_hash


class ReadOnlyMixin:
    """Viewable by those with the view permission; nobody adds, edits or deletes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "next_tier", "lead", "email"]
    list_filter = ["tier"]
    list_select_related = ["next_tier", "lead"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["next_tier", "lead"]
    filter_horizontal = ["members"]
    inlines = [CategoryInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "team"]
    list_filter = ["team"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "is_public"]
    list_filter = ["is_public", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]


@admin.register(PriorityMatrixCell)
class PriorityMatrixCellAdmin(admin.ModelAdmin):
    """The nine cells are fixed; only their priority is edited, right in the list."""

    list_display = ["impact", "urgency", "priority"]
    list_editable = ["priority"]
    readonly_fields = ["impact", "urgency"]
    list_display_links = None
    ordering = ["impact", "urgency"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LifecyclePolicy)
class LifecyclePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "confirmation_grace"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not LifecyclePolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_known_error", "created_at", "resolved_at"]
    list_filter = ["is_known_error"]
    search_fields = ["title", "description", "root_cause", "workaround"]


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = IncidentEvent
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = fields
    extra = 0


class NoteInline(ReadOnlyMixin, admin.TabularInline):
    model = IncidentNote
    fields = ["created_at", "kind", "author", "body"]
    readonly_fields = fields
    extra = 0


class UpdateInline(ReadOnlyMixin, admin.TabularInline):
    model = StakeholderUpdate
    fields = ["created_at", "is_public", "author", "body"]
    readonly_fields = fields
    extra = 0


class AlertInline(ReadOnlyMixin, admin.TabularInline):
    model = Alert
    fields = [
        "integration",
        "dedup_key",
        "status",
        "occurrences",
        "first_seen_at",
        "last_seen_at",
        "recovered_at",
    ]
    readonly_fields = fields
    extra = 0


class SlaSpanInline(ReadOnlyMixin, admin.TabularInline):
    model = SlaSpan
    fields = ["clock", "start", "end", "paused"]
    readonly_fields = fields
    extra = 0


@admin.register(Incident)
class IncidentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "status",
        "priority",
        "category",
        "team",
        "assignee",
        "source",
        "logged_at",
    ]
    list_filter = ["status", "priority", "source", "category", "team", "known_error"]
    list_select_related = ["category", "team", "assignee"]
    search_fields = ["title", "description"]
    date_hierarchy = "logged_at"
    inlines = [NoteInline, UpdateInline, AlertInline, SlaSpanInline, EventInline]
    readonly_fields = ["alert_inspector"]

    @admin.display(description="number", ordering="id")
    def number(self, incident: Incident) -> str:
        return incident.number

    @admin.display(description="alert inspector")
    def alert_inspector(self, incident: Incident) -> str:
        """Each alert occurrence with the rule that matched and the raw payload."""
        rows = [
            (
                item.event.at.isoformat(timespec="seconds"),
                item.rule,
                json.dumps(item.delivery.payload, indent=2)
                if item.delivery
                else "(pruned)",
            )
            for item in selectors.alert_inspector(incident=incident)
        ]
        if not rows:
            return "No alerts."
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>", rows
            ),
        )


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "incident", "kind", "actor"]
    list_filter = ["kind"]
    list_select_related = ["incident", "actor"]
    search_fields = ["incident__title"]


@admin.register(IncidentNote)
class IncidentNoteAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "incident", "kind", "author"]
    list_filter = ["kind"]
    list_select_related = ["incident", "author"]
    search_fields = ["body"]


@admin.register(StakeholderUpdate)
class StakeholderUpdateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "incident", "is_public", "author"]
    list_filter = ["is_public"]
    list_select_related = ["incident", "author"]
    search_fields = ["body"]


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """Adding an integration shows its new token once; only the hash is kept."""

    list_display = [
        "name",
        "kind",
        "is_active",
        "default_category",
        "recovery",
        "grouping",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["token_hint", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: Integration, form: Any, change: bool
    ) -> None:
        if not change:
            token = token_generate()
            obj.token_hash, obj.token_hint = token_hash(token), token[-4:]
            messages.warning(request, f"Token for {obj.name} (shown only now): {token}")
        super().save_model(request, obj, form, change)


@admin.register(Alert)
class AlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "integration",
        "incident",
        "status",
        "is_open",
        "occurrences",
        "last_seen_at",
    ]
    list_filter = ["integration", "status", "is_open"]
    list_select_related = ["integration", "incident"]
    search_fields = ["dedup_key", "title"]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The alert inspector: every request as received, and what became of each
    alert in it (which rule matched, which incident)."""

    list_display = ["received_at", "integration", "outcome_summary"]
    list_filter = ["integration"]
    list_select_related = ["integration"]
    date_hierarchy = "received_at"

    @admin.display(description="outcomes")
    def outcome_summary(self, delivery: AlertDelivery) -> str:
        return "; ".join(o["rule"] for o in delivery.outcomes)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Tokens are made with ``manage.py create_api_token``; here they are seen and
    revoked."""

    list_display = ["user", "name", "token_hint", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("incidents.delete_apitoken")


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """Calendars SLA time counts on: 24x7, or working hours and holidays."""

    list_display = ["name", "is_24x7", "time_zone"]
    inlines = [WorkingHoursInline, HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """One policy per priority. A change applies to open incidents at their next
    change, from the time they have already used."""

    list_display = [
        "priority",
        "calendar",
        "respond_minutes",
        "resolve_minutes",
        "warn_at_percent",
        "update_every_minutes",
    ]
    list_select_related = ["calendar"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The outbox: what was sent to whom, what is waiting, what failed and why."""

    list_display = ["created_at", "event", "channel", "recipient", "status", "attempts"]
    list_filter = ["status", "channel", "event"]
    list_select_related = ["incident"]
    search_fields = ["recipient", "subject"]


# The status page's models, from its own subpackage.
from incidents.status import admin as status_admin  # noqa: E402, F401
