"""Post-incident reviews: what happened (milestones, impact), why (five whys,
contributing factors), what went well and badly, and the action items that follow;
and the admin's policy for when a review is due and when a fix should be automated.

A review covers one or more incidents (``ReviewIncident``); an incident is covered
by at most one review, ever, which is what makes "exactly once" hold whatever path
opens it. Every write goes through ``reviews.services``."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.models import Incident, Problem, Team

MILESTONES = ("started", "detected", "acknowledged", "mitigated", "resolved")
# Which recorded time each milestone defaults to until someone corrects it.
MILESTONE_DEFAULTS = {
    "started": "detected_at",
    "detected": "logged_at",
    "acknowledged": "acknowledged_at",
    "mitigated": "resolved_at",
    "resolved": "resolved_at",
}


class ReviewPolicy(models.Model):
    """When a review is due and when recurrence or a repeated fix calls for one.
    One row, edited by admins; without it, the defaults below hold."""

    recurrence_count = models.PositiveSmallIntegerField(
        default=3,
        help_text="This many P3/P4 incidents with one error signature within the "
        "window open a review covering them all.",
    )
    recurrence_window = models.DurationField(default=timedelta(days=30))
    due_p1_days = models.PositiveSmallIntegerField(
        default=5, help_text="Business days from opening to the due date, for a P1."
    )
    due_p2_days = models.PositiveSmallIntegerField(default=10)
    due_recurring_days = models.PositiveSmallIntegerField(default=15)
    remind_before = models.DurationField(
        default=timedelta(days=1),
        help_text="The owner is reminded this long before the due date, and once "
        "after it.",
    )
    automation_uses = models.PositiveSmallIntegerField(
        default=3,
        help_text="A workaround or runbook applied this many times to incidents of "
        "one error signature opens an \u201cAutomate\u201d action item.",
    )
    allow_self_approval = models.BooleanField(
        default=False,
        help_text="Whether the person who submitted a review may also approve it.",
    )

    class Meta:
        verbose_name_plural = "review policy"

    def __str__(self) -> str:
        return "Review policy"

    @classmethod
    def current(cls) -> ReviewPolicy:
        return cls.objects.order_by("pk").first() or cls()


class Review(ConcurrentTransitionMixin, models.Model):
    """The post-incident review of one incident (or of several recurring ones):
    written as a draft, submitted for review, approved by an incident manager or
    a manager, then published for every agent to read. Approved and published
    reviews are read-only. The status moves only through the transitions below,
    each called by one service."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"

    class Reason(models.TextChoices):
        MAJOR = "major", "Major incident (P1/P2)"
        RECURRING = "recurring", "Recurring incident"
        MANUAL = "manual", "Opened by hand"

    READ_ONLY = (Status.APPROVED, Status.PUBLISHED)

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="reviews_led"
    )
    incidents = models.ManyToManyField(
        Incident, through="ReviewIncident", related_name="reviews"
    )
    reason = models.CharField(max_length=9, choices=Reason.choices)
    open_note = models.TextField(
        blank=True, help_text="Why it was opened by hand; what recurred."
    )
    signature = models.CharField(max_length=300, blank=True)
    problem = models.ForeignKey(
        Problem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        help_text="The problem this review led to.",
    )
    status = FSMField(
        max_length=9, choices=Status.choices, default=Status.DRAFT, protected=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviews_owned",
    )
    due_at = models.DateTimeField()
    summary = models.TextField(blank=True)
    five_whys = models.JSONField(default=list, blank=True)
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Set by the reminder sweep, each once: before the due date, after it.
    reminded_before_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_after_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("approve_review", "Can approve and publish reviews"),
            ("open_review", "Can open a review by hand"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="review_due_unpublished",
                condition=~models.Q(status__in=["approved", "published"]),
            ),
            models.Index(fields=["signature", "status"], name="review_signature"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.incident.title if self.incident_id else ''}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"PIR-{self.pk:06d}" if self.pk else "PIR-(new)"

    @property
    def is_read_only(self) -> bool:
        return self.status in self.READ_ONLY

    # ---- lifecycle: in memory only; the services save and record
    @transition(field=status, source=Status.DRAFT, target=Status.IN_REVIEW)
    def submit(self) -> None:
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.DRAFT)
    def send_back(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.IN_REVIEW,
        target=Status.APPROVED,
        permission="reviews.approve_review",
    )
    def approve(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.APPROVED,
        target=Status.PUBLISHED,
        permission="reviews.approve_review",
    )
    def publish(self) -> None:
        pass


class ReviewIncident(models.Model):
    """An incident a review covers. Unique per incident: no incident is ever
    reviewed twice, however often it is reopened and resolved."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="covers")
    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="review_cover"
    )
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["incident_id"]

    def __str__(self) -> str:
        return f"{self.review_id} covers {self.incident_id}"


class ReviewMilestone(models.Model):
    """A corrected time of one milestone of one covered incident (when it really
    started, was detected, acknowledged, mitigated, resolved). Without a row the
    recorded time stands; with one, the dashboards use this time instead."""

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="milestones"
    )
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(
        max_length=12, choices=[(name, name.capitalize()) for name in MILESTONES]
    )
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField()

    class Meta:
        ordering = ["incident_id", "at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "name"], name="review_milestone_once"
            )
        ]
        # The dashboards' refresh asks every 20 s which were corrected lately.
        indexes = [models.Index(fields=["edited_at"], name="review_milestone_edited")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.name} at {self.at:%Y-%m-%d %H:%M}"


class ReviewArticle(models.Model):
    """A knowledge-base article the review created, updated or points to."""

    class Relation(models.TextChoices):
        CREATED = "created", "Created from this review"
        UPDATED = "updated", "Updated after this review"
        LINKED = "linked", "Related"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="links")
    article = models.ForeignKey(
        "kb.Article", on_delete=models.PROTECT, related_name="review_links"
    )
    relation = models.CharField(max_length=7, choices=Relation.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "article"], name="review_article_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.review_id} {self.relation} {self.article_id}"


class ReviewEvent(models.Model):
    """One entry on the review's own timeline: opened, edited, submitted,
    approved, published, an action item added or completed."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
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

    def __str__(self) -> str:
        return f"{self.review_id} {self.kind}"


class ActionItemQuerySet(models.QuerySet):
    def open(self) -> ActionItemQuerySet:
        return self.filter(status__in=ActionItem.OPEN_STATUSES)


class ActionItem(ConcurrentTransitionMixin, models.Model):
    """Something to do so it does not happen again: owned by a person or a team,
    due on a date, tracked from open to done (or won't do, with a reason). Found
    by a review, on a problem, or opened by the automation rule for a fix that
    keeps being applied by hand."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    class Source(models.TextChoices):
        REVIEW = "review", "Review"
        PROBLEM = "problem", "Problem"
        AUTOMATION = "automation", "Automation rule"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.REVIEW
    )
    review = models.ForeignKey(
        Review,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="action_items",
    )
    problem = models.ForeignKey(
        Problem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
    )
    article = models.ForeignKey(
        "kb.Article",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="action_items",
    )
    incidents = models.ManyToManyField(
        Incident, blank=True, related_name="action_items"
    )
    signature = models.CharField(max_length=300, blank=True)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="action_items",
    )
    owner_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="action_items",
    )
    due_on = models.DateField()
    status = FSMField(
        max_length=11, choices=Status.choices, default=Status.OPEN, protected=True
    )
    wont_do_reason = models.TextField(blank=True)
    external_url = models.URLField(
        max_length=500, blank=True, help_text="The item in an external tracker."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # The last day the overdue sweep reminded the owner: at most once a day.
    reminded_on = models.DateField(null=True, blank=True, editable=False)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner_user__isnull=False)
                | models.Q(owner_team__isnull=False),
                name="action_item_has_owner",
            ),
            # The automation rule opens one item per article and signature
            # while it is open, even if two uses are recorded at once.
            models.UniqueConstraint(
                fields=["article", "signature"],
                name="action_item_automate_once",
                condition=models.Q(
                    source="automation", status__in=["open", "in_progress"]
                ),
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_on", "id"],
                name="action_item_open_due",
                condition=models.Q(status__in=["open", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        if self.review_id:
            return reverse("reviews:detail", args=[self.review_id]) + f"#{self.number}"
        return reverse("reviews:my_action_items") + f"#{self.number}"

    @property
    def number(self) -> str:
        return f"AI-{self.pk:06d}" if self.pk else "AI-(new)"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def owner_display(self) -> str:
        if self.owner_user_id:
            user = self.owner_user
            return user.get_full_name() or user.get_username()
        return str(self.owner_team) if self.owner_team_id else ""

    def has_reason(self) -> bool:
        return bool(self.wont_do_reason.strip())

    @transition(field=status, source=Status.OPEN, target=Status.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(
        field=status, source=[Status.OPEN, Status.IN_PROGRESS], target=Status.DONE
    )
    def complete(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.OPEN, Status.IN_PROGRESS],
        target=Status.WONT_DO,
        conditions=[has_reason],
    )
    def decline(self) -> None:
        pass

    @transition(field=status, source=[Status.DONE, Status.WONT_DO], target=Status.OPEN)
    def reopen(self) -> None:
        pass
