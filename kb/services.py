"""Every write to the knowledge base: web views, the API, the sweep and the demo
loader all call these, and no other code changes an article.

Each service is one transaction that checks the caller's permission, refuses a
caller whose copy is out of date (``revision``), validates, saves, and keeps the
search index in step. Incidents are touched only through the incident services.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_fsm import can_proceed

from incidents import services as incident_services
from incidents.exceptions import IncidentConflict
from incidents.humanize import human_datetime
from incidents.models import (
    Category,
    Incident,
    Notification,
    Problem,
    Profile,
    Service,
    Team,
)
from incidents.services.attachments import attachments_check, files_store
from incidents.services.notifications import outbox_write
from kb.models import (
    BODY_MAX_BYTES,
    Article,
    ArticleAttachment,
    ArticleUse,
    ArticleVersion,
    ReviewPeriod,
    SearchTerm,
)
from kb.search import CONFIG, STEM_SQL, plain_stem, words_of

logger = logging.getLogger(__name__)
User = AbstractBaseUser

WRITE_PERMISSION = "kb.change_article"
CREATE_PERMISSION = "kb.add_article"
PUBLISH_PERMISSION = "kb.publish_article"
TEXT_FIELDS = ("title", "symptoms", "body")


class ArticleConflict(IncidentConflict):
    """The article's state does not allow this now, or someone else saved it since
    the caller read it: answered 409 like the incidents' conflicts, with the text
    the caller sent kept."""


def _require(by: User, permission: str, action: str) -> None:
    if not by.has_perm(permission):
        raise PermissionDenied(f"You may not {action}.")


def _validate_text(*, title: str, body: str) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = "An article needs a title."
    if len(body.encode()) > BODY_MAX_BYTES:
        errors["body"] = (
            f"The text is longer than {BODY_MAX_BYTES // 1024} kB; split it into "
            "several articles or attach the rest as a file."
        )
    if errors:
        raise ValidationError(errors)


def _validate_problem(kind: str, problem: Problem | None) -> None:
    if problem is not None and kind != Article.Kind.KNOWN_ERROR:
        raise ValidationError(
            {"problem": "Only a known-error article documents a problem."}
        )


def _lock(article: Article, *, revision: int | None) -> None:
    """Lock the article's row for the transaction and refuse a stale copy."""
    current = (
        Article.objects.select_for_update()
        .filter(pk=article.pk)
        .values_list("revision", flat=True)
        .get()
    )
    if current != article.revision or (revision is not None and revision != current):
        raise ArticleConflict(
            f"{article.number} was changed by someone else while you were editing "
            "it. Your text is kept below; compare and save again.",
            code="stale",
        )


def _save(article: Article, *, at: datetime) -> None:
    article.updated_at = at
    article.full_clean(exclude=["status", "owner_team", "author", "problem"])
    article.revision += 1
    article.save()


@transaction.atomic
def article_create(
    *,
    by: User,
    title: str,
    owner_team: Team,
    symptoms: str = "",
    body: str = "",
    kind: str = Article.Kind.HOW_TO,
    audience: str = Article.Audience.INTERNAL,
    services: Iterable[Service] = (),
    categories: Iterable[Category] = (),
    problem: Problem | None = None,
    now: datetime | None = None,
) -> Article:
    """Write a new draft. Drafts are read only by the owner team and the author
    until published."""
    _require(by, CREATE_PERMISSION, "write articles")
    _validate_text(title=title, body=body)
    _validate_problem(kind, problem)
    at = now or timezone.now()
    article = Article(
        title=title.strip(),
        symptoms=symptoms,
        body=body,
        kind=kind,
        audience=audience,
        owner_team=owner_team,
        problem=problem,
        author=by,
        created_at=at,
        updated_at=at,
    )
    article.full_clean(exclude=["status", "owner_team", "author", "problem"])
    article.save()
    article.services.set(services)
    article.categories.set(categories)
    return article


@transaction.atomic
def article_update(
    *,
    article: Article,
    by: User,
    revision: int,
    now: datetime | None = None,
    services: Iterable[Service] | None = None,
    categories: Iterable[Category] | None = None,
    **fields: Any,
) -> Article:
    """Change a draft's text or details. ``revision`` is the one the caller read:
    if someone saved since, nothing is written (409). A published article is
    taken back to draft first (``article_unpublish``) to be rewritten; a retired
    one is not edited."""
    _require(by, WRITE_PERMISSION, "edit articles")
    allowed = {"title", "symptoms", "body", "kind", "audience", "owner_team", "problem"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not article fields: {sorted(unknown)}")
    _lock(article, revision=revision)
    if article.status != Article.Status.DRAFT:
        raise ArticleConflict(
            f"{article.number} is {article.get_status_display().lower()}: only a "
            "draft is edited. Take it back to draft to rewrite it.",
            code="not_draft",
        )
    for name, value in fields.items():
        setattr(article, name, value.strip() if name == "title" else value)
    _validate_text(title=article.title, body=article.body)
    _validate_problem(article.kind, article.problem)
    _save(article, at=now or timezone.now())
    if services is not None:
        article.services.set(services)
    if categories is not None:
        article.categories.set(categories)
    return article


def _transition(article: Article, name: str, *, revision: int | None) -> None:
    _lock(article, revision=revision)
    method = getattr(article, name)
    if not can_proceed(method):
        raise ArticleConflict(
            f"Cannot {name} {article.number}: it is "
            f"{article.get_status_display().lower()}.",
            code="invalid_transition",
        )
    method()


@transaction.atomic
def article_publish(
    *,
    article: Article,
    by: User,
    revision: int | None = None,
    now: datetime | None = None,
) -> ArticleVersion:
    """Publish a draft for its audience. Its text becomes a new version (the one
    it replaces stays readable), its review date is set by its kind's review
    period, and the search index learns it. A retired article is not published
    again (409)."""
    _require(by, PUBLISH_PERMISSION, "publish articles")
    _transition(article, "publish", revision=revision)
    _validate_text(title=article.title, body=article.body)
    at = now or timezone.now()
    article.published_at = at
    article.review_due_at = at + ReviewPeriod.for_kind(article.kind)
    article.stale_reminded_at = None
    _save(article, at=at)
    last = article.versions.order_by("-number").values_list("number", flat=True)
    version = ArticleVersion.objects.create(
        article=article,
        number=(last.first() or 0) + 1,
        title=article.title,
        symptoms=article.symptoms,
        body=article.body,
        published_by=by,
        published_at=at,
    )
    article_index(article=article)
    return version


@transaction.atomic
def article_unpublish(
    *,
    article: Article,
    by: User,
    revision: int | None = None,
    now: datetime | None = None,
) -> Article:
    """Take a published article back to draft, to rewrite it. Its readers lose it
    until it is published again."""
    _require(by, WRITE_PERMISSION, "edit articles")
    _transition(article, "unpublish", revision=revision)
    _save(article, at=now or timezone.now())
    return article


@transaction.atomic
def article_retire(
    *,
    article: Article,
    by: User,
    revision: int | None = None,
    now: datetime | None = None,
) -> Article:
    """Retire a published article: nobody but its team finds it any more."""
    _require(by, PUBLISH_PERMISSION, "retire articles")
    _transition(article, "retire", revision=revision)
    _save(article, at=now or timezone.now())
    return article


# ---------------------------------------------------------------- search index
def article_index(*, article: Article) -> None:
    """Bring the article's search vector and the vocabulary up to date with its
    text (called by the services that publish)."""
    names = " ".join(
        [
            *article.services.values_list("name", flat=True),
            *article.categories.values_list("name", flat=True),
        ]
    )
    publics = [True, False] if article.is_public else [False]
    if connection.vendor != "postgresql":
        words = {
            word
            for word in words_of(
                f"{article.title} {article.symptoms} {article.body} {names}"
            )
            if 2 <= len(word) <= 60
        }
        for public in publics:
            known = set(
                SearchTerm.objects.filter(public=public, word__in=words).values_list(
                    "word", flat=True
                )
            )
            SearchTerm.objects.filter(public=public, word__in=known).update(
                documents=F("documents") + 1
            )
            SearchTerm.objects.bulk_create(
                [
                    SearchTerm(
                        word=word,
                        stem=plain_stem(word),
                        public=public,
                        length=len(word),
                    )
                    for word in sorted(words - known)
                ],
                ignore_conflicts=True,
            )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE kb_article SET search_vector =
                setweight(to_tsvector('{CONFIG}', title), 'A')
                || setweight(to_tsvector('{CONFIG}', symptoms || ' ' || %s), 'B')
                || setweight(to_tsvector('{CONFIG}', body), 'C')
            WHERE id = %s
            """,
            [names, article.pk],
        )
        # The vocabulary is of words as typed (the 'simple' configuration), so a
        # correction reads as a word, not as a stem.
        cursor.execute(
            f"""
            INSERT INTO kb_searchterm (word, stem, public, length, documents)
            SELECT s.word, {STEM_SQL.format(word="s.word")}, p.public,
                length(s.word), 1
            FROM ts_stat($$SELECT to_tsvector('simple', title || ' ' || symptoms
                || ' ' || body) FROM kb_article WHERE id = {int(article.pk)}$$) s,
                unnest(%s::boolean[]) AS p(public)
            WHERE length(s.word) BETWEEN 2 AND 60
            ON CONFLICT (public, word)
                DO UPDATE SET documents = kb_searchterm.documents + 1
            """,
            [publics],
        )


# ---------------------------------------------------------------- attachments
@transaction.atomic
def article_attach(
    *,
    article: Article,
    by: User,
    files: Sequence[UploadedFile],
    now: datetime | None = None,
) -> list[ArticleAttachment]:
    """Attach files to an article, checked as incident attachments are (by their
    content, size and count) and kept in the same storage."""
    _require(by, WRITE_PERMISSION, "edit articles")
    at = now or timezone.now()
    return files_store(
        attachments_check(files),
        lambda checked: ArticleAttachment(
            article=article,
            uploaded_by=by,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.upload.size,
            created_at=at,
        ),
    )


# ---------------------------------------------------------------- use on incidents
def error_signature(incident: Incident) -> str:
    """What kind of error an incident is, for counting fixes: its alert's
    fingerprint when a monitor opened it, else its category and first service."""
    alert = (
        incident.alerts.order_by("id")
        .values_list("integration_id", "dedup_key")
        .first()
    )
    if alert:
        return f"alert:{alert[0]}:{alert[1]}"[:300]
    service = incident.services.order_by("id").values_list("pk", flat=True).first()
    return f"category:{incident.category_id or '-'}:service:{service or '-'}"


@transaction.atomic
def article_use_record(
    *,
    article: Article,
    incident: Incident,
    by: User,
    kind: str = ArticleUse.Kind.APPLIED,
    now: datetime | None = None,
) -> ArticleUse:
    """Record that an article was applied to an incident (or helped with it): a
    row the knowledge base counts, and an entry on the incident's timeline. Doing
    it again for the same article, incident and kind changes nothing."""
    if kind not in ArticleUse.Kind.values:
        raise ValidationError({"kind": "Say whether it was applied or helped."})
    if article.status != Article.Status.PUBLISHED:
        raise ArticleConflict(
            f"{article.number} is not published; only published articles are applied.",
            code="not_published",
        )
    existing = ArticleUse.objects.filter(
        article=article, incident=incident, kind=kind
    ).first()
    if existing:
        return existing
    at = now or timezone.now()
    incident_services.incident_record_article(
        incident=incident,
        by=by,
        use=kind,
        article=article.number,
        title=article.title,
        now=at,
    )
    return ArticleUse.objects.create(
        article=article,
        incident=incident,
        kind=kind,
        signature=error_signature(incident),
        by=by,
        at=at,
    )


def incident_link_known_error(
    *, incident: Incident, by: User, article: Article, now: datetime | None = None
) -> Incident:
    """Triage's "this is a known error": link the incident to the problem the
    known-error article documents, through the incident service (on the
    timeline)."""
    if article.kind != Article.Kind.KNOWN_ERROR or article.problem_id is None:
        raise ValidationError("This article documents no problem to link to.")
    return incident_services.incident_link_problem(
        incident=incident, by=by, problem=article.problem, now=now
    )


# ---------------------------------------------------------------- stale reminders
STALE_EVENT = "kb_article_stale"


def stale_recipients(team: Team) -> list[str]:
    """The owner team's shared mailbox, else its lead."""
    if team.email:
        return [team.email]
    if team.lead_id and team.lead.email:
        return [team.lead.email]
    return []


def stale_recipients_zoned(team: Team) -> list[tuple[str, tzinfo]]:
    """``stale_recipients`` with the time zone each reads in: the lead's own
    (their profile), a team mailbox the service's."""
    default = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    lead = team.lead if team.lead_id else None
    profile = Profile.objects.filter(user=lead).first() if lead else None
    return [
        (
            address,
            profile.zone if profile and lead and address == lead.email else default,
        )
        for address in stale_recipients(team)
    ]


def _stale_message(article: Article, *, subject: str, zone: tzinfo) -> tuple[str, str]:
    """The reminder's plain text and HTML, the review date in ``zone``."""
    context = {
        "article": article,
        "subject": subject,
        "due": human_datetime(article.review_due_at, zone),
        "url": settings.SITE_URL + article.get_absolute_url(),
        "zone_name": str(zone),
    }
    return tuple(
        render_to_string(
            "kb/email/stale.txt",
            {**context, "layout": f"kb/email/_layout.{kind}"},
        )
        for kind in ("txt", "html")
    )


def article_remind_stale(*, now: datetime | None = None, batch: int = 500) -> int:
    """Remind each owner team, once per article, of its published articles past
    their review date. Each article is claimed with a conditional UPDATE and is
    acted on only if this call changed exactly that row, so two sweeps at once
    (or one run twice) remind nobody twice. Returns how many were reminded."""
    now = now or timezone.now()
    due = Q(
        status=Article.Status.PUBLISHED,
        review_due_at__lte=now,
        stale_reminded_at__isnull=True,
    )
    reminded = 0
    pks = list(
        Article.objects.filter(due)
        .order_by("review_due_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in pks:
        with transaction.atomic():
            if Article.objects.filter(due, pk=pk).update(stale_reminded_at=now) != 1:
                continue  # another sweep got there first
            article = Article.objects.select_related("owner_team__lead").get(pk=pk)
            details = {
                "article": article.number,
                "title": article.title,
                "review_due": article.review_due_at.isoformat(),
                "url": settings.SITE_URL + article.get_absolute_url(),
            }
            subject = " ".join(
                f"{article.number} is due for review: {article.title}".split()
            )[:255]
            rows = []
            for address, zone in stale_recipients_zoned(article.owner_team):
                text, html = _stale_message(article, subject=subject, zone=zone)
                rows.append(
                    Notification(
                        channel=Notification.Channel.EMAIL,
                        recipient=address,
                        event=STALE_EVENT,
                        subject=subject,
                        body=text,
                        html_body=html,
                        payload={
                            "event": STALE_EVENT,
                            "at": now.isoformat(),
                            **details,
                        },
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            outbox_write(rows)
            reminded += 1
    return reminded
