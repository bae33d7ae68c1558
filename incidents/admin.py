"""The admin: configuration is edited here; incidents and their logs are shown
read-only, because every change to an incident goes through the services (and the
timeline is append-only)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from incidents import selectors
from incidents.admin_config import (
    IntegrationForm,
    endpoint_url,
    example_request,
    matrix_rows,
)
from incidents.models import (
    Alert,
    AlertDelivery,
    ApiToken,
    BusinessCalendar,
    Category,
    Holiday,
    Impact,
    Incident,
    IncidentEvent,
    IncidentNote,
    Integration,
    LifecyclePolicy,
    Notification,
    Priority,
    PriorityMatrixCell,
    Problem,
    ProblemEvent,
    Service,
    SlaPolicy,
    SlaSpan,
    StakeholderUpdate,
    Team,
    Urgency,
    WebhookEndpoint,
    WorkingHours,
)
from incidents.models.alerts import token_generate, token_hash
from incidents.services.configuration import priority_matrix_update


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


def _reachable(members: Any, lead: Any) -> bool:
    return (lead is not None and lead.is_active) or any(
        member.is_active for member in members
    )


class TeamAdminForm(forms.ModelForm):
    """A team chain never escalates into a team that reaches nobody: the next tier
    must have an active member or a lead, and a team others escalate into keeps
    one of them."""

    class Meta:
        model = Team
        fields = ["name", "tier", "next_tier", "lead", "members", "email"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = data.get("next_tier")
        if target is not None and not _reachable(target.members.all(), target.lead):
            self.add_error(
                "next_tier",
                f"{target.name} has no active members and no lead: an incident "
                "escalated there would reach nobody. Give it a lead or members first.",
            )
        if self.instance.pk is not None and "members" in data:
            sources = list(self.instance.escalated_from.values_list("name", flat=True))
            if sources and not _reachable(data["members"], data.get("lead")):
                self.add_error(
                    None,
                    f"{', '.join(sources)} escalate into this team: it needs an "
                    "active member or a lead.",
                )
        return data


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
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
    """The nine cells are fixed: the list is the 3x3 grid (impact down, urgency
    across), each cell's priority a select, saved all at once. A single cell's
    page still edits that cell's priority alone."""

    readonly_fields = ["impact", "urgency"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        editable = self.has_change_permission(request)
        cells = dict(
            ((cell.impact, cell.urgency), cell.priority)
            for cell in PriorityMatrixCell.objects.all()
        )
        if request.method == "POST":
            if not editable:
                raise PermissionDenied
            try:
                posted = {
                    (i, u): int(request.POST.get(f"cell-{i}-{u}", ""))
                    for i in Impact.values
                    for u in Urgency.values
                }
                changed = priority_matrix_update(cells=posted)
            except (ValueError, ValidationError) as error:
                messages.error(request, f"Nothing was saved: {error}")
            else:
                messages.success(
                    request, f"The priority matrix is saved ({changed} cells changed)."
                )
                return redirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "rows": matrix_rows(cells),
            "urgencies": Urgency.choices,
            "priorities": Priority.choices,
            "editable": editable,
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "admin/incidents/prioritymatrixcell/grid.html", context
        )


@admin.register(LifecyclePolicy)
class LifecyclePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "confirmation_grace"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not LifecyclePolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProblemEventInline(ReadOnlyMixin, admin.TabularInline):
    model = ProblemEvent
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = fields
    extra = 0


@admin.register(Problem)
class ProblemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: problems are worked on their console pages and the API, through
    their services (the status is protected, every change on the timeline)."""

    list_display = ["__str__", "status", "owner_team", "created_at", "resolved_at"]
    list_filter = ["status", "owner_team"]
    search_fields = ["title", "description", "root_cause", "workaround"]
    inlines = [ProblemEventInline]


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
    form = IntegrationForm
    readonly_fields = ["endpoint", "example", "token_hint", "created_at"]

    class Media:
        js = ["js/copy.js"]

    @admin.display(description="Endpoint")
    def endpoint(self, obj: Integration) -> str:
        if not obj.pk:
            return "Shown once the integration is saved."
        return format_html("<code>POST {}</code>", endpoint_url(obj))

    @admin.display(description="Example request")
    def example(self, obj: Integration) -> str:
        if not obj.pk:
            return "Shown once the integration is saved."
        return format_html(
            '<pre id="integration-example">{}</pre>'
            '<button type="button" data-copy="integration-example">Copy</button>'
            "<p>Replace &lt;token&gt; with the integration's token (shown once, "
            "when it was created).</p>",
            example_request(obj),
        )

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
