"""What happened to an incident, in order: the timeline, notes and replies, and the
stakeholder communication log. All three are append-only."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete a row of an append-only log."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")


class AppendOnlyModel(models.Model):
    """A row that, once written, is never changed or deleted: an audit log must not
    be rewritten after the fact. (The admin shows these read-only too.)"""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")


class IncidentEvent(AppendOnlyModel):
    """One entry of an incident's timeline: a transition, a field change, an
    assignment, an escalation, a note, an update or an alert occurrence, with who did
    it (None for the system) and when. Reviews build their timeline from these."""

    class Kind(models.TextChoices):
        LOGGED = "logged", "Logged"
        TRANSITION = "transition", "State changed"
        FIELD_CHANGED = "field_changed", "Field changed"
        TIMESTAMP_CORRECTED = "timestamp_corrected", "Timestamp corrected"
        ASSIGNED = "assigned", "Assigned"
        ESCALATED = "escalated", "Escalated"
        WORK_NOTE = "work_note", "Work note"
        REPLY = "reply", "Reply"
        STAKEHOLDER_UPDATE = "stakeholder_update", "Stakeholder update"
        PROBLEM_LINKED = "problem_linked", "Linked to problem"
        PROBLEM_UNLINKED = "problem_unlinked", "Unlinked from problem"
        DUPLICATE_MERGED = "duplicate_merged", "Duplicate merged in"
        ALERT_OCCURRENCE = "alert_occurrence", "Alert occurrence"
        SLA_WARNING = "sla_warning", "SLA target at risk"
        SLA_BREACHED = "sla_breached", "SLA target missed"
        UNASSIGNED_MAJOR = "unassigned_major", "Major incident unassigned"
        UPDATE_OVERDUE = "update_overdue", "Stakeholder update overdue"
        ATTACHMENT_ADDED = "attachment_added", "Attachment added"
        ARTICLE_APPLIED = "article_applied", "Article applied"
        ARTICLE_HELPED = "article_helped", "Article helped"
        MAJOR_DECLARED = "major_declared", "Major incident declared"
        MAJOR_ROLES = "major_roles", "Major incident roles set"
        MAJOR_BRIDGE = "major_bridge", "Bridge link set"
        MAJOR_STAKEHOLDERS = "major_stakeholders", "Stakeholder list set"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # PROTECT: removing a person must not rewrite history; deactivate them instead.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at", "id"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class ProblemEvent(AppendOnlyModel):
    """One entry of a problem's timeline: created, a field changed, a state
    change, an incident linked or unlinked, its known-error article published;
    with who did it (None for the system) and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        FIELD_CHANGED = "field_changed", "Field changed"
        TRANSITION = "transition", "State changed"
        INCIDENT_LINKED = "incident_linked", "Incident linked"
        INCIDENT_UNLINKED = "incident_unlinked", "Incident unlinked"
        ARTICLE_PUBLISHED = "article_published", "Known-error article published"

    problem = models.ForeignKey(
        "incidents.Problem", on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["problem", "at", "id"], name="problem_event_timeline")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class IncidentNote(AppendOnlyModel):
    """A work note (internal, agents only) or a reply (visible to the requester)."""

    class Kind(models.TextChoices):
        WORK_NOTE = "work_note", "Work note"
        REPLY = "reply", "Reply"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="notes"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="note_incident")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author_id}"

    @property
    def is_internal(self) -> bool:
        return self.kind == self.Kind.WORK_NOTE


class StakeholderUpdate(AppendOnlyModel):
    """An entry of the communication log. Public updates appear on the status page."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="updates"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="update_incident")
        ]

    def __str__(self) -> str:
        return f"Update on {self.incident_id} at {self.created_at:%Y-%m-%d %H:%M}"
