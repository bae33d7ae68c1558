"""Celery tasks of the dashboards: thin, the work in services."""

from __future__ import annotations

from celery import shared_task

from dashboards.digest import digest_send
from dashboards.services import rollup_refresh


@shared_task
def rollup_refresh_task() -> int:
    """Every ``DASHBOARDS_REFRESH_SECONDS`` (beat): bring the rollups up to date.
    Safe to run twice. Returns how many incidents were taken up."""
    return rollup_refresh().incidents


@shared_task
def digest_send_task() -> int:
    """Hourly (beat): once a week is over, send its digest to those who asked.
    Safe to run twice: each person's week is claimed before it is written."""
    return digest_send()
