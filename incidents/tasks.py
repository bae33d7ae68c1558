"""Celery tasks of the incidents app: thin, ids in, the work in services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from incidents.models import AlertDelivery


@shared_task
def alert_delivery_prune_task() -> int:
    """Delete raw alert deliveries older than the retention period; safe to run
    twice. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.ALERT_DELIVERY_RETENTION_DAYS)
    deleted, _ = AlertDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted
