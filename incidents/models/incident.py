"""The incident and its lifecycle, problems, and the lifecycle policy."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.models.organisation import Category, Service, Team
from incidents.models.priority import Impact, Priority, Urgency

_NUMBER = re.compile(r"^\s*(?:INC-?)?0*(\d+)\s*$", re.IGNORECASE)
_PROBLEM_NUMBER = re.compile(r"^\s*(?:PRB-?)?0*(\d{1,18})\s*$", re.IGNORECASE)
# The largest id a 64-bit primary key holds; a larger number names no row (and
# would overflow the database driver rather than match nothing).
MAX_ID = 2**63 - 1


# An incident's place in the queue's priority sort: P1 first, no priority (not
# triaged yet) after P4. The index incident_open_by_priority is on this expression.
NO_PRIORITY_RANK = 9
PRIORITY_RANK = Coalesce("priority", models.Value(NO_PRIORITY_RANK))


# The open states as the partial indexes' conditions name them (Meta cannot see
# Incident.OPEN_STATUSES, which holds the same values).
OPEN_STATUS_VALUES = ["new", "triaged", "investigating", "awaiting_requester"]


class LifecyclePolicy(models.Model):
    """The admin-set rules of the lifecycle. One row (pk 1), created on first use."""

    confirmation_grace = models.DurationField(
        default=timedelta(days=3),
        help_text="How long the requester has to confirm or reopen a resolved "
        "incident before it closes by itself.",
    )

    class Meta:
        verbose_name = "lifecycle policy"
        verbose_name_plural = "lifecycle policy"

    def __str__(self) -> str:
        return "Lifecycle policy"

    @classmethod
    def current(cls) -> LifecyclePolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class ProblemQuerySet(models.QuerySet):
    def active(self) -> ProblemQuerySet:
        """Open or known error: still being worked."""
        return self.filter(status__in=Problem.ACTIVE_STATUSES)

    def by_number(self, number: str) -> Problem:
        """The problem ``PRB-000012`` (or ``prb-12``, ``12``); DoesNotExist for
        anything else."""
        match = _PROBLEM_NUMBER.match(number or "")
        if match is None:
            raise self.model.DoesNotExist(f"{number!r} is not a problem number")
        return self.get(pk=int(match.group(1)))


class Problem(ConcurrentTransitionMixin, models.Model):
    """The underlying cause of one or more incidents. Open while it is being
    investigated; a known error once its cause and workaround are known (triage
    matches new incidents against its known-error article); resolved when a
    permanent fix removed the cause; closed when nothing is left to do.

    The status moves only through the transitions below, each called by one
    service in ``reviews.problems.services``; incidents are linked to it only by
    the incident services (``incident_link_problem``, ``incident_unlink_problem``).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KNOWN_ERROR = "known_error", "Known error"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # Still being worked: a recurring error under one of these is covered.
    ACTIVE_STATUSES = (Status.OPEN, Status.KNOWN_ERROR)

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    is_known_error = models.BooleanField(
        default=False,
        help_text="Its workaround is known: incidents linked to it are known errors.",
    )
    owner_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
        help_text="The team that investigates it and owns its known-error article.",
    )
    status = FSMField(
        max_length=11, choices=Status.choices, default=Status.OPEN, protected=True
    )
    # Bumped on every write; an edit that says which version it started from is
    # refused when someone else saved in between.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("manage_problems", "Can work every team's problems"),
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="problem_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("problems:detail", args=[self.number])

    @property
    def number(self) -> str:
        return f"PRB-{self.pk:06d}" if self.pk else "PRB-(new)"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    # ---- lifecycle: in memory only; the services check, save and record
    @transition(field=status, source=Status.OPEN, target=Status.KNOWN_ERROR)
    def mark_known_error(self, *, at: datetime) -> None:
        self.is_known_error = True

    @transition(
        field=status,
        source=[Status.OPEN, Status.KNOWN_ERROR],
        target=Status.RESOLVED,
    )
    def resolve(self, *, at: datetime) -> None:
        self.resolved_at = at

    @transition(field=status, source=Status.RESOLVED, target=Status.CLOSED)
    def close(self, *, at: datetime) -> None:
        self.closed_at = at


def _requester_or(permission: str) -> Callable[[Incident, Any], bool]:
    """Transition permission: the incident's own requester, or holders of
    ``permission``."""

    def check(incident: Incident, user: Any) -> bool:
        is_requester = user.pk is not None and user.pk == incident.requester_id
        return is_requester or user.has_perm(permission)

    return check


def _confirmer(incident: Incident, user: Any) -> bool:
    """Who confirms a fix: the requester, when the incident has one (nobody else
    may close a person's ticket for them); a business lead holding "confirm for
    requester" only when it has none (an alert's, an agent's own)."""
    if incident.requester_id is not None:
        return user.pk is not None and user.pk == incident.requester_id
    return user.has_perm("incidents.confirm_for_requester")


class IncidentQuerySet(models.QuerySet):
    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=Incident.OPEN_STATUSES)

    def by_number(self, number: str) -> Incident:
        """The incident ``INC-000123`` (also ``inc-123`` or ``123``); DoesNotExist
        for anything else."""
        match = _NUMBER.match(number or "")
        if match is None or int(match.group(1)) > MAX_ID:
            raise self.model.DoesNotExist(f"{number!r} is not an incident number")
        return self.get(pk=int(match.group(1)))


def system_only(incident: Incident, user: object) -> bool:
    """A transition from this state is the system's alone: to a person it is as
    if the state did not allow it (a 409, not a 403)."""
    return False


system_only.system_only = True


class Incident(ConcurrentTransitionMixin, models.Model):
    """A service disruption reported by a monitor, a requester or an agent, tracked
    from logging to closure.

    The status moves only through the transitions below, each called by one service
    in ``incidents.services``; ``protected=True`` refuses direct assignment, and
    ``ConcurrentTransitionMixin`` refuses to save over a status changed meanwhile.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        INVESTIGATING = "investigating", "Investigating"
        AWAITING_REQUESTER = "awaiting_requester", "Awaiting requester"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        MERGED = "merged", "Merged into another incident"

    class Phase(models.IntegerChoices):
        """The four phases of the incident process."""

        IDENTIFICATION = 1, "Identification and logging"
        INVESTIGATION = 2, "Investigation and diagnosis"
        RESOLUTION = 3, "Resolution and recovery"
        REVIEW = 4, "Post-incident review"

    class Source(models.TextChoices):
        ALERT = "alert", "Monitoring alert"
        PORTAL = "portal", "Requester portal"
        AGENT = "agent", "Agent"

    class ResolutionKind(models.TextChoices):
        WORKAROUND = "workaround", "Workaround"
        PERMANENT_FIX = "permanent_fix", "Permanent fix"

    # Cancelled and merged incidents leave during identification (not an incident,
    # or a duplicate); a closed one has only its review left to do.
    PHASES = {
        Status.NEW: Phase.IDENTIFICATION,
        Status.CANCELLED: Phase.IDENTIFICATION,
        Status.MERGED: Phase.IDENTIFICATION,
        Status.TRIAGED: Phase.INVESTIGATION,
        Status.INVESTIGATING: Phase.INVESTIGATION,
        Status.AWAITING_REQUESTER: Phase.INVESTIGATION,
        Status.RESOLVED: Phase.RESOLUTION,
        Status.CLOSED: Phase.REVIEW,
    }
    OPEN_STATUSES = (
        Status.NEW,
        Status.TRIAGED,
        Status.INVESTIGATING,
        Status.AWAITING_REQUESTER,
    )
    FINAL_STATUSES = (Status.CLOSED, Status.CANCELLED, Status.MERGED)

    # ---- what it is
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    services = models.ManyToManyField(Service, blank=True, related_name="incidents")
    impact = models.CharField(max_length=6, choices=Impact.choices, blank=True)
    urgency = models.CharField(max_length=6, choices=Urgency.choices, blank=True)
    # Computed from impact and urgency by the matrix; never typed.
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, null=True, blank=True, editable=False
    )
    source = models.CharField(max_length=6, choices=Source.choices)

    # ---- who
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_incidents",
    )
    contact = models.CharField(
        max_length=200,
        blank=True,
        help_text="How to reach the requester about this incident (phone, desk).",
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_incidents",
    )
    tier = models.PositiveSmallIntegerField(choices=Team.Tier.choices, default=1)

    # ---- diagnosis and resolution
    problem = models.ForeignKey(
        Problem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    known_error = models.BooleanField(
        default=False, help_text="Triage matched a known error."
    )
    resolution_kind = models.CharField(
        max_length=13, choices=ResolutionKind.choices, blank=True
    )
    resolution = models.TextField(blank=True, help_text="The steps that fixed it.")
    verification = models.TextField(
        blank=True, help_text="How the fix was verified in production."
    )
    cancel_reason = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    follows_up = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text="The earlier, closed incident this one continues.",
    )
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # "The same error" for recurrence (incidents.signatures); kept by the services.
    signature = models.CharField(max_length=300, blank=True, editable=False)

    # ---- milestones (see incident_correct_timestamp for late logging)
    detected_at = models.DateTimeField()
    logged_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set on resolve: when it closes by itself if nobody confirms or reopens.
    confirmation_due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # ---- SLA: what the clocks say, kept current by the services (incidents.sla)
    # and read by the sweep through the partial indexes below.
    respond_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    respond_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    respond_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    respond_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    unassigned_escalated_at = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    next_update_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    update_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    status = FSMField(
        max_length=20, choices=Status.choices, default=Status.NEW, protected=True
    )
    # Bumped on every write; a form or API call that says which version it edited
    # is refused when someone else changed the incident in between.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("triage_incident", "Can triage incidents"),
            ("work_incident", "Can work on incidents (assign, escalate, resolve)"),
            ("cancel_incident", "Can cancel incidents"),
            ("merge_incident", "Can merge duplicate incidents"),
            (
                "correct_incident_timestamps",
                "Can correct an incident's milestone timestamps, with a reason",
            ),
            (
                "confirm_for_requester",
                "Can confirm a resolution as business lead (incidents with no "
                "requester)",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "priority"], name="incident_status_priority"
            ),
            models.Index(fields=["team", "status"], name="incident_team_status"),
            models.Index(
                fields=["assignee", "status"], name="incident_assignee_status"
            ),
            models.Index(
                fields=["confirmation_due_at"],
                name="incident_confirmation_due",
                condition=models.Q(status="resolved"),
            ),
            models.Index(
                fields=["respond_due_at"],
                name="incident_respond_due",
                condition=models.Q(respond_breached_at__isnull=True),
            ),
            models.Index(
                fields=["resolve_due_at"],
                name="incident_resolve_due",
                condition=models.Q(resolve_breached_at__isnull=True),
            ),
            models.Index(
                fields=["respond_warn_at"],
                name="incident_respond_warn",
                condition=models.Q(respond_warned_at__isnull=True),
            ),
            models.Index(
                fields=["resolve_warn_at"],
                name="incident_resolve_warn",
                condition=models.Q(resolve_warned_at__isnull=True),
            ),
            models.Index(
                fields=["logged_at"],
                name="incident_unassigned_major",
                condition=models.Q(
                    assignee__isnull=True,
                    unassigned_escalated_at__isnull=True,
                    priority__in=[1, 2],
                    status__in=OPEN_STATUS_VALUES,
                ),
            ),
            models.Index(fields=["next_update_due_at"], name="incident_update_due"),
            # The lists behind the dashboards' figures (incidents.console.figures)
            # select by these instants within a period.
            models.Index(fields=["logged_at"], name="incident_logged"),
            # Recurrence: incidents of one signature logged since an instant.
            models.Index(
                fields=["signature", "logged_at"], name="incident_signature_logged"
            ),
            models.Index(fields=["acknowledged_at"], name="incident_acknowledged"),
            models.Index(fields=["resolved_at"], name="incident_resolved"),
            models.Index(
                fields=["respond_breached_at"],
                name="incident_respond_breached",
                condition=models.Q(respond_breached_at__isnull=False),
            ),
            models.Index(
                fields=["resolve_breached_at"],
                name="incident_resolve_breached",
                condition=models.Q(resolve_breached_at__isnull=False),
            ),
            # The queue's priority sort: open incidents in the order it shows them
            # (no priority last, newest first within a priority), so a page is a
            # range of this index, not a sort of every open incident.
            models.Index(
                PRIORITY_RANK,
                models.F("id").desc(),
                name="incident_open_by_priority",
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
            ),
            # "My teams" (the console's default view) and the team filter: a
            # team's open incidents newest first, so a page is a range of this
            # index rather than a walk back through every incident until enough
            # of the team's turn up (2.6 ms to 0.15 ms at 1M incidents).
            models.Index(
                models.F("team"),
                models.F("id").desc(),
                name="incident_open_by_team",
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="merged", merged_into__isnull=False)
                    | (~models.Q(status="merged") & models.Q(merged_into__isnull=True))
                ),
                name="incident_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("admin:incidents_incident_change", args=[self.pk])

    @property
    def number(self) -> str:
        return f"INC-{self.pk:06d}" if self.pk else "INC-(new)"

    @property
    def phase(self) -> Incident.Phase:
        return self.PHASES[self.status]

    @property
    def is_major(self) -> bool:
        return self.priority in Priority.major()

    # ---- guards: what each transition still lacks, as {field: message}
    def triage_blockers(self) -> dict[str, str]:
        required = {
            "category": self.category_id,
            "impact": self.impact,
            "urgency": self.urgency,
            "team": self.team_id,
        }
        return {
            name: "Required to triage." for name, value in required.items() if not value
        }

    def resolution_blockers(self) -> dict[str, str]:
        required = {
            "resolution_kind": self.resolution_kind,
            "resolution": self.resolution.strip(),
            "verification": self.verification.strip(),
        }
        return {
            name: "Required to resolve."
            for name, value in required.items()
            if not value
        }

    def _triage_ready(self) -> bool:
        return not self.triage_blockers()

    def _resolution_ready(self) -> bool:
        return not self.resolution_blockers()

    def _has_assignee(self) -> bool:
        return self.assignee_id is not None

    def _has_cancel_reason(self) -> bool:
        return bool(self.cancel_reason.strip())

    def _has_merge_target(self) -> bool:
        return self.merged_into_id is not None and self.merged_into_id != self.pk

    def _awaiting_confirmation(self) -> bool:
        return self.confirmation_due_at is not None

    # ---- transitions: in-memory only; the services save and write the timeline
    @transition(
        field=status,
        source=Status.NEW,
        target=Status.TRIAGED,
        conditions=[_triage_ready],
        permission="incidents.triage_incident",
    )
    def triage(self, *, at: datetime) -> None:
        pass

    @transition(
        field=status,
        source=Status.TRIAGED,
        target=Status.INVESTIGATING,
        conditions=[_has_assignee],
        permission="incidents.work_incident",
    )
    def start_work(self, *, at: datetime) -> None:
        self.acknowledged_at = self.acknowledged_at or at

    @transition(
        field=status,
        source=Status.INVESTIGATING,
        target=Status.AWAITING_REQUESTER,
        permission="incidents.work_incident",
    )
    def wait_for_requester(self, *, at: datetime) -> None:
        pass

    @transition(
        field=status,
        source=Status.AWAITING_REQUESTER,
        target=Status.INVESTIGATING,
        permission=_requester_or("incidents.work_incident"),
    )
    def resume(self, *, at: datetime) -> None:
        pass

    @transition(
        field=status,
        source=[Status.INVESTIGATING, Status.AWAITING_REQUESTER],
        target=Status.RESOLVED,
        conditions=[_resolution_ready],
        permission="incidents.work_incident",
    )
    @transition(
        field=status,
        source=[Status.NEW, Status.TRIAGED],
        target=Status.RESOLVED,
        conditions=[_resolution_ready],
        # Before anyone works on it, only monitoring's recovery resolves it: the
        # system, never a person (people triage and work it first).
        permission=system_only,
    )
    def resolve(self, *, at: datetime, grace: timedelta) -> None:
        self.resolved_at = at
        self.confirmation_due_at = at + grace

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.CLOSED,
        permission=_confirmer,
    )
    def confirm(self, *, at: datetime) -> None:
        self.closed_at = at
        self.confirmation_due_at = None

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.CLOSED,
        conditions=[_awaiting_confirmation],
        # Only the system closes without a confirmation: no person holds this.
        permission=lambda incident, user: False,
    )
    def close(self, *, at: datetime) -> None:
        if at < self.confirmation_due_at:
            raise ValueError("the confirmation grace period has not expired")
        self.closed_at = at
        self.confirmation_due_at = None

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.INVESTIGATING,
        permission=_requester_or("incidents.work_incident"),
    )
    def reopen(self, *, at: datetime) -> None:
        self.resolved_at = None
        self.confirmation_due_at = None
        self.reopen_count += 1

    @transition(
        field=status,
        source=[Status.NEW, Status.TRIAGED],
        target=Status.CANCELLED,
        conditions=[_has_cancel_reason],
        permission="incidents.cancel_incident",
    )
    def cancel(self, *, at: datetime) -> None:
        self.closed_at = at

    @transition(
        field=status,
        source=list(OPEN_STATUSES),
        target=Status.MERGED,
        conditions=[_has_merge_target],
        permission="incidents.merge_incident",
    )
    def merge(self, *, at: datetime) -> None:
        self.closed_at = at
