"""Celery tasks of the status page: thin, ids in, the work in the services."""

from __future__ import annotations

from celery import shared_task

from incidents.status.services import status_fanout_sweep, status_message_fanout_batch


@shared_task
def status_message_fanout_task(message_id: int) -> None:
    """After a message is posted: write its subscribers' outbox rows, batch by
    batch (each its own transaction), until every subscriber has one. Safe to
    run twice, or beside the sweep: a batch is written once."""
    while status_message_fanout_batch(message_id=message_id):
        pass


@shared_task
def status_fanout_sweep_task() -> int:
    """Every 30 s (beat): finish fan-outs a dead broker or worker left behind."""
    return status_fanout_sweep()
