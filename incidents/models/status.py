"""The public status page: components, entries published on purpose with their
messages and component impacts, every published version, and subscribers.

Nothing here is public by itself. An entry is proposed for a major incident on a
public service and stays internal until an incident manager publishes it with a
public title, the affected components and their state, and a first message. What
the page shows is read only from these rows (never from the incident), so no
internal number, priority, service, name or alert text can reach it.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from incidents.models.maintenance import public_id_field
from incidents.models.organisation import Service
from incidents.models.timeline import AppendOnlyModel


class ComponentState(models.TextChoices):
    """A component's state, in Statuspage's words (its API returns these)."""

    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL = "partial_outage", "Partial outage"
    MAJOR = "major_outage", "Major outage"
    MAINTENANCE = "under_maintenance", "Under maintenance"


# The states an entry can put a component in.
IMPACT_STATES = (ComponentState.DEGRADED, ComponentState.PARTIAL, ComponentState.MAJOR)
# Worst last: a component, a day or the page takes the worst state it has.
STATE_RANK = {
    ComponentState.OPERATIONAL: 0,
    ComponentState.MAINTENANCE: 1,
    ComponentState.DEGRADED: 2,
    ComponentState.PARTIAL: 3,
    ComponentState.MAJOR: 4,
}


class StatusPageSettings(models.Model):
    """The status page's own settings. One row (pk 1); defaults until saved."""

    name = models.CharField(max_length=100, default="Service status")
    auto_publish_p1 = models.BooleanField(
        default=False,
        help_text="Publish every P1 on a public service at once, with the "
        "component's default public title and a standard first message, instead "
        "of waiting for an incident manager. Off: nothing is public until a "
        "person publishes it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "status page settings"
        verbose_name_plural = "status page settings"

    def __str__(self) -> str:
        return "Status page settings"

    @classmethod
    def current(cls) -> StatusPageSettings:
        """The saved row, or the defaults (unsaved) if the admin never saved one:
        reading the page never writes."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class ComponentGroup(models.Model):
    """A heading that gathers components on the status page (Statuspage's
    component groups)."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class StatusComponent(models.Model):
    """How a public service shows on the status page. Every public service
    (``Service.is_public``) is a component; this optional row gives it a group, a
    position, a public description and the default public title that automatic
    P1 publishing uses."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="status_component"
    )
    group = models.ForeignKey(
        ComponentGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="components",
    )
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(
        blank=True, help_text="Public: what the component is, for the status page."
    )
    default_title = models.CharField(
        max_length=200,
        blank=True,
        help_text="Public title of an automatically published P1 "
        "(empty: '<service> is unavailable').",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "service__name"]

    def __str__(self) -> str:
        return f"Component {self.service.name}"


class StatusEntry(models.Model):
    """What the status page says about one incident.

    Proposed when a major incident names a public service; public only once
    published, with a public title, components and a first message. From then on
    it moves through the public stages (investigating, identified, monitoring,
    resolved), each with a message, independent of the incident's lifecycle.
    Resolved is the last stage; the words stay editable and every published
    version is kept (``StatusVersion``).
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        PUBLISHED = "published", "Published"
        DISMISSED = "dismissed", "Dismissed"

    class Stage(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    class Impact(models.TextChoices):
        """Statuspage's incident impact, from the worst component state."""

        NONE = "none", "None"
        MINOR = "minor", "Minor"
        MAJOR = "major", "Major"
        CRITICAL = "critical", "Critical"

    public_id = public_id_field()
    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.PROTECT, related_name="status_entry"
    )
    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.PROPOSED
    )
    title = models.CharField(max_length=200, blank=True)
    stage = models.CharField(
        max_length=13, choices=Stage.choices, default=Stage.INVESTIGATING
    )
    impact = models.CharField(max_length=8, choices=Impact.choices, default=Impact.NONE)
    proposed_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # When the trouble started, as the public reads it (the incident's detection).
    started_at = models.DateTimeField(null=True, blank=True)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # The incident was resolved: resolving the entry is proposed to its managers.
    resolution_proposed_at = models.DateTimeField(null=True, blank=True)
    title_edited_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name_plural = "status entries"
        permissions = [
            (
                "publish_statusentry",
                "Can publish status page entries and post their messages",
            ),
        ]
        indexes = [
            models.Index(
                fields=["proposed_at"],
                name="status_entry_proposed",
                condition=models.Q(status="proposed"),
            ),
            models.Index(
                fields=["status", "resolved_at"], name="status_entry_published"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Proposal for incident {self.incident_id}"

    @property
    def is_open(self) -> bool:
        """Published and not resolved: it takes stage messages."""
        return self.status == self.Status.PUBLISHED and self.resolved_at is None


class StatusImpact(models.Model):
    """A component in a state because of an entry, from ``start_at`` until
    ``end_at`` (open while None). Uptime and the daily bars are computed from
    these spans; a change of state closes one span and opens the next."""

    entry = models.ForeignKey(
        StatusEntry, on_delete=models.CASCADE, related_name="impacts"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=20, choices=[(s.value, s.label) for s in IMPACT_STATES]
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start_at", "id"]
        indexes = [models.Index(fields=["entry", "end_at"], name="status_impact_open")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__isnull=True)
                | models.Q(end_at__gte=models.F("start_at")),
                name="status_impact_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["entry", "service"],
                condition=models.Q(end_at__isnull=True),
                name="status_impact_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.state} from {self.start_at:%Y-%m-%d %H:%M}"


class StatusMessage(models.Model):
    """One public message of an entry, at its stage. New messages reach the
    subscribers: the fan-out walks them in id order, batch by batch, keeping
    its place in ``fanout_cursor`` until ``fanout_done_at``."""

    public_id = public_id_field()
    entry = models.ForeignKey(
        StatusEntry, on_delete=models.CASCADE, related_name="messages"
    )
    stage = models.CharField(max_length=13, choices=StatusEntry.Stage.choices)
    body = models.TextField()
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # Internal: who wrote it (None: the system), and the public stakeholder
    # update it was made from, if any (one message per update).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source_update = models.OneToOneField(
        "incidents.StakeholderUpdate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_message",
    )
    fanout_cursor = models.BigIntegerField(default=0)
    fanout_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="status_message_fanout_due",
                condition=models.Q(fanout_done_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class StatusVersion(AppendOnlyModel):
    """Every published wording of an entry's title (``message`` None) or of one
    of its messages, in order: what the public could read, and when."""

    entry = models.ForeignKey(
        StatusEntry, on_delete=models.PROTECT, related_name="versions"
    )
    message = models.ForeignKey(
        StatusMessage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="versions",
    )
    text = models.TextField()
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        what = "title" if self.message_id is None else f"message {self.message_id}"
        return f"{what} at {self.at:%Y-%m-%d %H:%M}"


def subscriber_secret() -> str:
    return secrets.token_urlsafe(32)


class StatusSubscriber(models.Model):
    """Someone who hears of every new message of the status page, by email or by
    a signed webhook; of all components (none chosen) or of the chosen ones.

    A row exists only once its address confirmed the subscription (double
    opt-in: the confirmation link carries the request, signed), and goes away
    when it unsubscribes. A webhook subscriber gives an email address to confirm
    with; its payloads are signed with ``secret`` (``X-ITSM-Signature``), shown
    to it once, on confirmation.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    kind = models.CharField(max_length=7, choices=Kind.choices)
    email = models.EmailField(
        help_text="Where updates (or, for a webhook, the confirmation) go."
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    secret = models.CharField(max_length=100, default=subscriber_secret)
    components = models.ManyToManyField(
        Service,
        blank=True,
        related_name="+",
        help_text="None chosen: every component.",
    )
    confirmed_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(kind="email"),
                name="status_subscriber_one_per_email",
            ),
            models.UniqueConstraint(
                fields=["webhook_url"],
                condition=models.Q(kind="webhook"),
                name="status_subscriber_one_per_webhook",
            ),
        ]

    def __str__(self) -> str:
        return self.webhook_url if self.kind == self.Kind.WEBHOOK else self.email
