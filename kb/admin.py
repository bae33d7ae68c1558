"""The admin: the review period of each kind is configuration, edited here.
Articles, their versions and uses are shown read-only, because every change to an
article goes through the services (the console's /kb/ pages, or the API); the
admin's actions call those services too."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from incidents.admin import ReadOnlyMixin
from incidents.exceptions import IncidentConflict
from kb import services
from kb.models import Article, ArticleUse, ArticleVersion, ReviewPeriod


@admin.register(ReviewPeriod)
class ReviewPeriodAdmin(admin.ModelAdmin):
    list_display = ["kind", "review_after"]


class VersionInline(ReadOnlyMixin, admin.TabularInline):
    model = ArticleVersion
    fields = ["number", "title", "published_by", "published_at"]
    extra = 0


def _run(request: HttpRequest, articles: QuerySet[Article], service: Any) -> None:
    for article in articles:
        try:
            service(article=article, by=request.user)
        except (IncidentConflict, PermissionDenied) as exc:
            messages.error(request, f"{article.number}: {exc}")
        else:
            messages.success(request, f"{article.number}: done.")


@admin.register(Article)
class ArticleAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "title", "kind", "audience", "status", "owner_team"]
    list_filter = ["status", "kind", "audience", "owner_team"]
    search_fields = ["title", "symptoms"]
    inlines = [VersionInline]
    actions = ["publish", "retire"]
    exclude = ["search_vector"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change list's actions need it; every field stays read-only.
        return obj is None and request.user.has_perm("kb.change_article")

    @admin.action(description="Publish the selected drafts")
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        _run(request, queryset, services.article_publish)

    @admin.action(description="Retire the selected articles")
    def retire(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        _run(request, queryset, services.article_retire)


@admin.register(ArticleUse)
class ArticleUseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["article", "incident", "kind", "signature", "at"]
    list_filter = ["kind"]
