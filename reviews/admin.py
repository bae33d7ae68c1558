"""The admin: the review policy (recurrence, due dates, reminders, the
automation count, self-approval) is configuration, edited here. Reviews and action
items are shown read-only: every change goes through the services (the console's
/reviews/ pages or the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from incidents.admin import ReadOnlyMixin
from reviews.models import ActionItem, Review, ReviewEvent, ReviewPolicy


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "recurrence_count",
        "recurrence_window",
        "due_p1_days",
        "due_p2_days",
        "due_recurring_days",
        "automation_uses",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # One policy: the first row is the one in force.
        return super().has_add_permission(request) and not ReviewPolicy.objects.exists()


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = ReviewEvent
    fields = ["at", "kind", "actor", "data"]
    extra = 0


@admin.register(Review)
class ReviewAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "incident", "reason", "status", "owner", "due_at"]
    list_filter = ["status", "reason"]
    inlines = [EventInline]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "title", "status", "owner_user", "owner_team", "due_on"]
    list_filter = ["status", "source"]
