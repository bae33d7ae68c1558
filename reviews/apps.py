from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


def _article_used(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Glue only: once a new "applied" record commits, ask the automation rule
    (``reviews.services.action_item_automate``) whether it is time. The knowledge
    base knows nothing of reviews; this receiver is how its records reach them."""
    if not created or instance.kind != "applied":
        return
    article_id, signature = instance.article_id, instance.signature

    def check() -> None:
        from kb.models import Article
        from reviews.services import action_item_automate

        article = Article.objects.select_related("problem").get(pk=article_id)
        action_item_automate(article=article, signature=signature)

    transaction.on_commit(check, robust=True)


class ReviewsConfig(AppConfig):
    """Post-incident reviews, their root cause analysis and action items."""

    name = "reviews"
    verbose_name = "Post-incident reviews"

    def ready(self) -> None:
        from kb.models import ArticleUse

        post_save.connect(
            _article_used, sender=ArticleUse, dispatch_uid="reviews-automate"
        )
