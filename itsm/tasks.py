"""Project-wide Celery tasks."""

from __future__ import annotations

from celery import shared_task

from itsm import health


@shared_task(name="itsm.tasks.worker_heartbeat_record")
def worker_heartbeat_record_task() -> None:
    """Sent by beat every 30 s and run by a worker, so a fresh heartbeat proves the
    whole chain (beat, broker, worker) is alive."""
    health.worker_heartbeat_record()
