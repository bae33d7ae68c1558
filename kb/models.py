"""Knowledge-base articles, the versions each publish keeps, the uses agents record
on incidents, the files articles show, and the search vocabulary."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.models import Category, Incident, Problem, Service, Team
from incidents.models.attachments import attachment_storage

# An article's body is Markdown of at most this many bytes (UTF-8).
BODY_MAX_BYTES = 200 * 1024
DEFAULT_REVIEW_PERIOD = timedelta(days=365)
_NUMBER = re.compile(r"^\s*(?:K[BE]-?)?0*(\d{1,18})\s*$", re.IGNORECASE)


class ArticleKind(models.TextChoices):
    HOW_TO = "how_to", "How-to"
    KNOWN_ERROR = "known_error", "Known error"
    WORKAROUND = "workaround", "Workaround"
    RUNBOOK = "runbook", "Runbook"


class ReviewPeriod(models.Model):
    """How long an article of one kind stays fresh after it is published, before
    its owner team is asked to review it. A kind without a row: a year."""

    kind = models.CharField(max_length=12, unique=True, choices=ArticleKind.choices)
    review_after = models.DurationField(
        default=DEFAULT_REVIEW_PERIOD,
        help_text="Time from publishing to the review date (days hh:mm:ss).",
    )

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.review_after.days} days"

    @classmethod
    def for_kind(cls, kind: str) -> timedelta:
        found = cls.objects.filter(kind=kind).values_list("review_after", flat=True)
        return next(iter(found), DEFAULT_REVIEW_PERIOD)


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        return self.filter(status=Article.Status.PUBLISHED)

    def by_number(self, number: str) -> Article:
        """The article ``KB-000012`` (or ``KE-000012``, ``12``); DoesNotExist for
        anything else."""
        match = _NUMBER.match(number or "")
        if match is None:
            raise self.model.DoesNotExist(f"{number!r} is not an article number")
        return self.get(pk=int(match.group(1)))


class Article(ConcurrentTransitionMixin, models.Model):
    """A piece of knowledge: how to do something, a known error and its workaround,
    a workaround, or a runbook. Written as a draft, published for its audience
    (internal: agents only; public: requesters too), taken back to draft for a
    rewrite, retired at the end. The status moves only through the transitions
    below, each called by one service in ``kb.services``."""

    Kind = ArticleKind

    class Audience(models.TextChoices):
        INTERNAL = "internal", "Internal (agents only)"
        PUBLIC = "public", "Public (requesters too)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    title = models.CharField(max_length=200)
    symptoms = models.TextField(blank=True, help_text="What people see.")
    body = models.TextField(blank=True, help_text="Markdown.")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.HOW_TO)
    audience = models.CharField(
        max_length=8, choices=Audience.choices, default=Audience.INTERNAL
    )
    owner_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="articles"
    )
    services = models.ManyToManyField(Service, blank=True, related_name="articles")
    categories = models.ManyToManyField(Category, blank=True, related_name="articles")
    problem = models.ForeignKey(
        Problem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        help_text="For a known error: the problem it documents.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        max_length=9, choices=Status.choices, default=Status.DRAFT, protected=True
    )
    # Bumped on every write; an edit that says which revision it started from is
    # refused when someone else saved in between.
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the stale sweep when it reminded the owner team; cleared on publish.
    stale_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Title (A), symptoms (B) and body (C), PostgreSQL only; kept by the services.
    # Its GIN index is made by migration 0002 (PostgreSQL only as well).
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        permissions = [("publish_article", "Can publish and retire articles")]
        indexes = [
            models.Index(fields=["status", "kind"], name="article_status_kind"),
            models.Index(
                fields=["review_due_at"],
                name="article_review_due",
                condition=models.Q(status="published", stale_reminded_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("kb:detail", args=[self.number])

    @property
    def number(self) -> str:
        prefix = "KE" if self.kind == self.Kind.KNOWN_ERROR else "KB"
        return f"{prefix}-{self.pk:06d}" if self.pk else f"{prefix}-(new)"

    @property
    def is_public(self) -> bool:
        return self.audience == self.Audience.PUBLIC

    def is_stale(self, now: object) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.review_due_at is not None
            and self.review_due_at <= now
        )

    # ---- lifecycle: in memory only; the services save and record
    @transition(field=status, source=Status.DRAFT, target=Status.PUBLISHED)
    def publish(self) -> None:
        pass

    @transition(field=status, source=Status.PUBLISHED, target=Status.DRAFT)
    def unpublish(self) -> None:
        pass

    @transition(field=status, source=Status.PUBLISHED, target=Status.RETIRED)
    def retire(self) -> None:
        pass


class ArticleVersion(models.Model):
    """The text of an article as one publish made it public. Version n+1 replaces
    version n; every one is kept, so any can be read and compared."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    symptoms = models.TextField(blank=True)
    body = models.TextField(blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "number"], name="article_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleUse(models.Model):
    """An article applied to an incident, or found to have helped with it, with
    the incident's error signature (its alert fingerprint, or category and first
    service): the count behind "three uses of one fix: automate it"."""

    class Kind(models.TextChoices):
        APPLIED = "applied", "Applied"
        HELPED = "helped", "Helped"

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="uses")
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="article_uses"
    )
    kind = models.CharField(max_length=7, choices=Kind.choices)
    signature = models.CharField(max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "incident", "kind"], name="article_use_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["article", "signature", "kind"], name="article_use_signature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {self.kind} on {self.incident_id}"


def article_file_path(attachment: ArticleAttachment, filename: str) -> str:
    """A name of our own, as for incident attachments, under its own folder."""
    suffix = Path(filename).suffix.lower()
    return f"kb/{attachment.created_at:%Y/%m}/{attachment.pk}{suffix}"


class ArticleAttachment(models.Model):
    """A file an article shows or offers (a screenshot, a log), kept in the
    project's attachment storage. Whoever may read the article may fetch it;
    images are the only pictures an article's Markdown may show."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(storage=attachment_storage, upload_to=article_file_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb:attachment", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class SearchTerm(models.Model):
    """A word of the published articles' text, as the search index knows it (a
    stemmed lexeme on PostgreSQL, a lower-case word elsewhere): the vocabulary a
    mistyped query word is corrected against. ``public`` rows come from public
    articles only, so a requester's query is never corrected towards a word only
    internal articles use."""

    word = models.CharField(max_length=60)
    # The word as the index stems it ("failed", "fails": "fail"): how common a
    # query word is, whatever its form, is the sum over its stem.
    stem = models.CharField(max_length=120)
    public = models.BooleanField()
    length = models.PositiveSmallIntegerField()
    documents = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["public", "word"], name="search_term_once")
        ]
        indexes = [
            models.Index(fields=["public", "length"], name="search_term_length"),
            models.Index(fields=["public", "stem"], name="search_term_stem"),
        ]

    def __str__(self) -> str:
        return self.word
