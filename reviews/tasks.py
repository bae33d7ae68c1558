"""The reviews' beat sweep: thin, each step a function in ``reviews.reminders``."""

from __future__ import annotations

from celery import shared_task

from reviews.reminders import action_item_remind_overdue, review_remind_due


@shared_task
def reviews_remind_task() -> dict[str, int]:
    """Reminders for reviews due soon or overdue, and overdue action items."""
    return {
        "reviews": review_remind_due(),
        "action_items": action_item_remind_overdue(),
    }
