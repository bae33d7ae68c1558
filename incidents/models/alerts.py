"""Monitoring integrations, the alerts they send, and a log of every delivery."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models

from incidents.models.organisation import Category, Service
from incidents.models.priority import Impact, Urgency

TOKEN_PREFIX = "itsm_"


def token_generate() -> str:
    """A new secret token; recognisable by its prefix (for secret scanners)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 (no salt, no stretching) is a
    safe way to store them and still find one by an indexed lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def default_severity_map() -> dict[str, str]:
    return {
        "critical": Urgency.HIGH,
        "error": Urgency.HIGH,
        "high": Urgency.HIGH,
        "warning": Urgency.MEDIUM,
        "medium": Urgency.MEDIUM,
        "info": Urgency.LOW,
        "low": Urgency.LOW,
    }


class Integration(models.Model):
    """A monitoring tool allowed to post alerts, with its own token and the defaults
    its incidents get (category, service, impact, urgency by severity)."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        GRAFANA = "grafana", "Grafana alerting"
        PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
        GENERIC = "generic", "Generic JSON"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=8, editable=False, help_text="The token's last characters."
    )
    is_active = models.BooleanField(default=True)
    default_category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    default_service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    default_impact = models.CharField(
        max_length=6, choices=Impact.choices, default=Impact.MEDIUM
    )
    severity_map = models.JSONField(
        default=default_severity_map,
        help_text="Alert severity (lower case) to urgency: high, medium or low.",
    )

    class Recovery(models.TextChoices):
        ALL_RECOVERED = "all_recovered", "Resolve when all its alerts have recovered"
        UNACKNOWLEDGED = "unacknowledged", "Resolve only if nobody acknowledged it yet"
        RECORD = "record", "Record the recovery only"

    class Grouping(models.TextChoices):
        ALERT = "alert", "One incident per alert"
        SENDER_GROUP = "sender_group", "One incident per sender group"
        SERVICE = "service", "Attach to the open incident of the same service"

    recovery = models.CharField(
        max_length=14,
        choices=Recovery.choices,
        default=Recovery.ALL_RECOVERED,
        help_text="What a recovered alert does to its incident.",
    )
    grouping = models.CharField(
        max_length=12,
        choices=Grouping.choices,
        default=Grouping.ALERT,
        help_text="Which incident a new alert opens or joins. Sender group: "
        "Alertmanager's groupKey, Grafana's group labels.",
    )
    group_within_minutes = models.PositiveIntegerField(
        default=30,
        help_text="With 'same service': a new alert joins an open incident of its "
        "service logged at most this many minutes ago.",
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        default=60_000, help_text="Requests above this rate are answered 429."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def urgency_for(self, severity: str) -> str:
        urgency = self.severity_map.get((severity or "").strip().lower())
        return urgency if urgency in Urgency.values else Urgency.MEDIUM


# An alert accepted with no incident yet and no maintenance window holding it:
# a worker opens or joins its incident (``incidents.services.alerts``).
AWAITING_PLACEMENT = models.Q(is_open=True, incident=None, maintenance_window=None)


class Alert(models.Model):
    """One alert (a fingerprint or dedup key of one integration) and the incident it
    opened. At most one open alert per key, by a unique index: repeats add
    occurrences to it; once its incident ends, the next firing opens a new one."""

    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="alerts"
    )
    dedup_key = models.CharField(max_length=255)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
    )
    status = models.CharField(max_length=8, choices=Status.choices)
    is_open = models.BooleanField(default=True)
    # Whether the last occurrence changed the status (firing <-> resolved).
    status_changed = models.BooleanField(default=True)
    title = models.CharField(max_length=200)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    recovered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # What an agent reads in the Alerts panel, as the sender last described it.
    severity = models.CharField(max_length=32, blank=True, default="")
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    # [{"href", "text"}], in the sender's order; only http(s) ones become links.
    links = models.JSONField(default=list, blank=True)
    # The sender's group (Alertmanager's groupKey...), for grouping by it.
    group_key = models.CharField(max_length=255, blank=True, default="")
    # Repeats since the alert last changed state: the timeline's one counted line.
    repeats = models.PositiveIntegerField(default=0)
    last_repeat_at = models.DateTimeField(null=True, blank=True)
    # The newest delivery of the alert (repeats write no timeline row to find it by).
    last_delivery_id = models.UUIDField(null=True, blank=True)
    # What opening its incident needs that the fields above do not keep: the
    # sender's description, the service it named and when it says it started.
    # Kept so the worker that places the alert (or the maintenance sweep, after a
    # window) opens the incident as the request would have.
    description = models.TextField(blank=True, default="")
    service_name = models.CharField(max_length=100, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    # When a worker opened or joined its incident (or found it held by a window):
    # accepted at ``first_seen_at``, placed at this; null while it waits.
    placed_at = models.DateTimeField(null=True, blank=True)
    # Set when the alert came in during a window: recorded, but no incident.
    maintenance_window = models.ForeignKey(
        "incidents.MaintenanceWindow",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=models.Q(is_open=True),
                name="alert_one_open_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["integration", "dedup_key"], name="alert_key"),
            # The alerts waiting for a worker to open or join their incident.
            models.Index(
                fields=["id"],
                condition=AWAITING_PLACEMENT,
                name="alert_awaiting_placement",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """How texts name the alert: its title and identifying labels."""
        return alert_name(self.title, self.labels)

    @property
    def state(self) -> str:
        """firing, acknowledged or recovered."""
        if self.status == self.Status.RESOLVED:
            return "recovered"
        return "acknowledged" if self.acknowledged_at else "firing"


# Labels that say what the alert is rather than where it fired.
_NOT_IDENTIFYING = {"alertname", "severity", "summary", "description"}


def alert_name(title: str, labels: dict | None) -> str:
    """``HighCPU (instance=web-1, job=node)``: the title with up to three
    identifying labels, so a text names the alert, never its key."""
    pairs = [
        f"{k}={v}"
        for k, v in sorted((labels or {}).items())
        if k not in _NOT_IDENTIFYING and v not in ("", None)
    ][:3]
    title = title or (labels or {}).get("alertname", "") or "Alert"
    return f"{title} ({', '.join(pairs)})" if pairs else title


class AlertDelivery(models.Model):
    """One request from an integration, kept as received with what became of each
    alert in it: the alert inspector. Pruned after ``ALERT_DELIVERY_RETENTION_DAYS``."""

    # Made by the caller, so the timeline rows of its alerts can point at it before
    # it is written (one insert, at the end, with the outcomes).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="deliveries"
    )
    received_at = models.DateTimeField()
    payload = models.JSONField()
    # [{"dedup_key", "status", "rule", "incident"}], one per alert in the payload.
    outcomes = models.JSONField(default=list)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "alert deliveries"
        indexes = [
            models.Index(
                fields=["integration", "received_at"], name="delivery_received"
            )
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} from {self.integration_id}"


class ApiToken(models.Model):
    """A person's token for the API (``Authorization: Bearer ...``); it acts with
    that person's permissions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name or 'token'} …{self.token_hint}"
