"""Celery tasks of the knowledge base: thin, the work in services."""

from __future__ import annotations

from celery import shared_task

from kb.services import article_remind_stale


@shared_task
def article_remind_stale_task() -> int:
    """Hourly (beat): remind owner teams of articles past their review date, once
    per article. Safe to run twice."""
    return article_remind_stale()
