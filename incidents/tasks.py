"""Celery tasks of the incidents app: thin, ids in, the work in services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from incidents.models import AlertDelivery
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import maintenance_sweep
from incidents.services.attachments import attachments_prune_orphans
from incidents.services.notifications import notification_deliver, notification_sweep
from incidents.sla.sweep import sla_sweep
from incidents.status import tasks as status_tasks  # noqa: F401 - registers them


@shared_task
def alert_delivery_prune_task() -> int:
    """Delete raw alert deliveries older than the retention period; safe to run
    twice. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.ALERT_DELIVERY_RETENTION_DAYS)
    deleted, _ = AlertDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted


@shared_task
def alert_placement_task() -> int:
    """Open, join or hold the incidents of every alert that waits for one: asked
    right after an alert is accepted, and run by beat every few seconds for
    alerts whose ask was lost (the broker was down, a worker died). Safe to run
    twice, and in many workers."""
    return alerts_place_awaiting()


@shared_task
def alert_maintenance_sweep_task() -> int:
    """Every minute (beat): alerts a maintenance window held that still fire
    after it ended open their incidents. Safe to run twice."""
    return maintenance_sweep()


@shared_task
def attachments_prune_task() -> int:
    """Daily (beat): delete stored files no attachment names (left by a report
    that rolled back). Returns how many were deleted."""
    return len(attachments_prune_orphans())


@shared_task
def sla_sweep_task() -> dict[str, int]:
    """Every 30 s (beat): warnings, breaches and escalations, unassigned major
    incidents, overdue stakeholder updates, auto-close. Safe to run twice."""
    return sla_sweep()


@shared_task
def notification_deliver_task(pk: int) -> bool:
    """Deliver one outbox row (after the commit that wrote it). Safe to run twice:
    the row is claimed first; failures are retried by the row's own backoff."""
    return notification_deliver(pk=pk)


@shared_task
def notification_sweep_task() -> int:
    """Every 30 s (beat): deliver due outbox rows, e.g. after the broker was down."""
    return notification_sweep()
