"""The dashboards' rollups, each incident's share of them, and who gets the digest.

Every figure on the dashboards is a sum over rows of these tables, so a page costs
the same at ten thousand incidents as at a million: the rows are per day and per
combination of priority, team, category, source and service, never per incident.
``dashboards.services.rollup_refresh`` keeps them current (beat, every
``DASHBOARDS_REFRESH_SECONDS``) from the incidents' own columns and SLA ledgers.

Dimensions are plain integers, 0 meaning "none" (no priority yet, no team...), so
that a row's key is unique without NULLs; ``service_id`` 0 is the row over every
incident, and a service's id the row over the incidents naming that service (an
incident naming two services is in both, and once in the 0 rows).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

# Upper bounds (inclusive, in seconds of SLA time) of the buckets that the time
# to acknowledge and to resolve are counted in; the last bucket has none. Their
# steps are the ones people speak in, and they fall on the default SLA targets
# (15 min, 30 min, 4 h, 8 h, 1 and 5 business days...).
MINUTE, HOUR = 60, 3600
TIME_BUCKETS: tuple[int, ...] = (
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    20 * MINUTE,
    30 * MINUTE,
    45 * MINUTE,
    1 * HOUR,
    90 * MINUTE,
    2 * HOUR,
    3 * HOUR,
    4 * HOUR,
    6 * HOUR,
    8 * HOUR,
    12 * HOUR,
    16 * HOUR,
    24 * HOUR,
    32 * HOUR,
    40 * HOUR,
    48 * HOUR,
    72 * HOUR,
    120 * HOUR,
    168 * HOUR,
    336 * HOUR,
    720 * HOUR,
)
BUCKET_COUNT = len(TIME_BUCKETS) + 1
ACK_BUCKETS = tuple(f"ack_b{i:02d}" for i in range(BUCKET_COUNT))
RES_BUCKETS = tuple(f"res_b{i:02d}" for i in range(BUCKET_COUNT))

# Backlog age buckets: (label, lower bound, upper bound or None), in days.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1 day", 0, 1),
    ("1-3 days", 1, 3),
    ("3-7 days", 3, 7),
    ("7-30 days", 7, 30),
    ("> 30 days", 30, None),
)
AGE_FIELDS = tuple(f"age_{i}" for i in range(len(AGE_BUCKETS)))


def age_bounds(index: int, at: datetime) -> tuple[datetime | None, datetime]:
    """The logging instants ``[since, until)`` of open incidents in age bucket
    ``index`` at ``at`` (None: no bound; the drill-down adds "logged by ``at``"):
    the dashboards count them so, and the drill-down lists them so."""
    _, low, high = AGE_BUCKETS[index]
    since = None if high is None else at - timedelta(days=high)
    return since, (at - timedelta(days=low)) if low else None


class Access(models.Model):
    """Not a table: the anchor of the permission to read one's own teams'
    dashboards (``incidents.view_sla_dashboards`` reads every team's)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_team_dashboards", "Can read the dashboards of own teams"),
        ]

    def __str__(self) -> str:
        return "dashboards"


class RollupKey(models.Model):
    """The dimensions of a rollup row (0 or "" for none)."""

    service_id = models.PositiveIntegerField(default=0)
    priority = models.PositiveSmallIntegerField(default=0)
    team_id = models.PositiveIntegerField(default=0)
    category_id = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=6, default="")

    KEY_FIELDS = ("service_id", "priority", "team_id", "category_id", "source")

    class Meta:
        abstract = True


DAILY_COUNTERS = (
    "opened",
    "reopened",
    "known_error",
    "alert_incidents",
    "alert_occurrences",
    "response_met",
    "response_missed",
    "resolution_met",
    "resolution_missed",
    "acknowledged",
    "ack_seconds",
    "resolved",
    "resolve_seconds",
    "updates_due",
    "updates_on_time",
    *ACK_BUCKETS,
    *RES_BUCKETS,
)


class DailyRollup(RollupKey):
    """What happened on one local day (``TIME_ZONE``) to the incidents of one key:
    opened (and of those, reopened since, known errors, born of alerts and their
    occurrences), SLA targets met and missed (dated by when the clock stopped or
    reached the target), acknowledged and resolved with the SLA time they took
    (sums and buckets), and stakeholder updates due and sent on time."""

    day = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    known_error = models.PositiveIntegerField(default=0)
    alert_incidents = models.PositiveIntegerField(default=0)
    alert_occurrences = models.PositiveBigIntegerField(default=0)
    response_met = models.PositiveIntegerField(default=0)
    response_missed = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_missed = models.PositiveIntegerField(default=0)
    acknowledged = models.PositiveIntegerField(default=0)
    ack_seconds = models.PositiveBigIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolve_seconds = models.PositiveBigIntegerField(default=0)
    updates_due = models.PositiveIntegerField(default=0)
    updates_on_time = models.PositiveIntegerField(default=0)

    KEY_FIELDS = ("day", *RollupKey.KEY_FIELDS)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", *RollupKey.KEY_FIELDS], name="daily_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["day", "service_id"], name="daily_by_day")]

    def __str__(self) -> str:
        return f"{self.day} P{self.priority} team {self.team_id}"


for _name in (*ACK_BUCKETS, *RES_BUCKETS):
    DailyRollup.add_to_class(_name, models.PositiveIntegerField(default=0))


NOW_COUNTERS = ("open", "breaching", "update_overdue", *AGE_FIELDS)


class NowRollup(RollupKey):
    """The open incidents of one key as of the last refresh: how many, how many
    past an SLA target, how many major ones with a stakeholder update overdue,
    and how many in each age bucket (since logging)."""

    open = models.PositiveIntegerField(default=0)
    breaching = models.PositiveIntegerField(default=0)
    update_overdue = models.PositiveIntegerField(default=0)

    KEY_FIELDS = RollupKey.KEY_FIELDS

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=list(RollupKey.KEY_FIELDS), name="now_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"now P{self.priority} team {self.team_id}"


for _name in AGE_FIELDS:
    NowRollup.add_to_class(_name, models.PositiveIntegerField(default=0))

SIGNATURE_COUNTERS = ("alerts", "occurrences")


class SignatureRollup(models.Model):
    """The alerts of the incidents opened on one day in one team, by error
    signature (the integration and the alert's title): how many alerts and how
    many occurrences."""

    day = models.DateField()
    team_id = models.PositiveIntegerField(default=0)
    signature = models.CharField(max_length=220)
    alerts = models.PositiveIntegerField(default=0)
    occurrences = models.PositiveBigIntegerField(default=0)

    KEY_FIELDS = ("day", "team_id", "signature")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_id", "signature"], name="signature_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["day"], name="signature_by_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.signature}"


class IncidentFact(models.Model):
    """One incident's share of the rollups as last computed: the rows it adds to
    (``contributions``), so a recomputation subtracts exactly what it added; and
    the next instant its share changes with no write to it (a due time passing,
    an age bucket reached), when the refresh takes it up again."""

    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    contributions = models.JSONField(default=dict)
    next_change_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["next_change_at"],
                name="fact_next_change",
                condition=models.Q(next_change_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"fact of incident {self.incident_id}"


class RollupState(models.Model):
    """One row (pk 1): when the rollups were last brought up to date, and the
    timeline ids they have read, as (instant, highest id) checkpoints; the next
    refresh reads the timeline from a checkpoint old enough that no transaction
    still open then can commit an older entry unseen."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    checkpoints = models.JSONField(default=list)
    # New at every refresh: the figures computed from the rollups are cached
    # under it, so a cached page is never older than the rollups it shows.
    token = models.CharField(max_length=32, default="", editable=False)

    def __str__(self) -> str:
        return f"rollups as of {self.refreshed_at}"


class DigestSubscription(models.Model):
    """A person who asked for the weekly dashboard digest by email. The digest of
    a week (Monday to Sunday, ``TIME_ZONE``) goes out once: sending claims the
    week by moving ``last_week`` to its Monday."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dashboard_digest",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_week = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"digest for {self.user_id}"
