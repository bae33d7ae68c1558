"""Reads of the knowledge base. ``articles_visible_to`` is the one rule for who may
read which article: every page, search, suggestion, API answer and email starts
from it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from incidents.models import Team
from kb.models import Article, ArticleUse, ArticleVersion

READ_ALL_PERMISSION = "kb.view_article"
PORTAL_PERMISSION = "incidents.use_requester_portal"
# "Three uses of one fix for one kind of error: automate it."
AUTOMATE_AFTER_USES = 3


def articles_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Article]:
    """Staff who read articles (agents, incident managers) see every published
    article, whatever its audience, and the drafts and retired articles of their
    own teams (and those they wrote); a requester sees published public articles
    only; anyone else sees none."""
    if not user.is_authenticated or not user.is_active:
        return Article.objects.none()
    if user.has_perm(READ_ALL_PERMISSION):
        own = Q(owner_team__in=Team.objects.filter(members=user)) | Q(author=user)
        return Article.objects.filter(Q(status=Article.Status.PUBLISHED) | own)
    if user.has_perm(PORTAL_PERMISSION):
        return Article.objects.filter(
            status=Article.Status.PUBLISHED, audience=Article.Audience.PUBLIC
        )
    return Article.objects.none()


def reads_internal(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may read internal articles (and so be offered their words
    when a query is corrected)."""
    return user.is_authenticated and user.has_perm(READ_ALL_PERMISSION)


def article_get(*, user: AbstractBaseUser | AnonymousUser, number: str) -> Article:
    """One article ``user`` may read, with what its page shows; DoesNotExist
    otherwise (the caller answers 404, as for an article that does not exist)."""
    return (
        articles_visible_to(user)
        .select_related("owner_team", "problem", "author")
        .prefetch_related("services", "categories")
        .by_number(number)
    )


def article_list(
    *,
    user: AbstractBaseUser | AnonymousUser,
    kind: str = "",
    service: int | None = None,
    category: int | None = None,
    status: str = "",
) -> QuerySet[Article]:
    """The articles ``user`` may read, newest first, optionally of one kind,
    service, category or status, with what a list row shows."""
    articles = articles_visible_to(user)
    if kind:
        articles = articles.filter(kind=kind)
    if service:
        articles = articles.filter(services=service)
    if category:
        articles = articles.filter(categories=category)
    if status:
        articles = articles.filter(status=status)
    return (
        articles.select_related("owner_team")
        .prefetch_related("services")
        .order_by("-updated_at", "-id")
    )


def article_versions(*, article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("published_by").order_by("-number")


def automation_candidates(
    *, min_uses: int = AUTOMATE_AFTER_USES
) -> QuerySet[ArticleUse]:
    """Articles applied at least ``min_uses`` times to incidents of one error
    signature: fixes worth automating. One grouped query on the use index."""
    return (
        ArticleUse.objects.filter(kind=ArticleUse.Kind.APPLIED)
        .values("article", "signature")
        .annotate(uses=Count("id"))
        .filter(uses__gte=min_uses)
        .order_by("-uses", "article")
    )
