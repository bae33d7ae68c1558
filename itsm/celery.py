"""The Celery application: configured from Django settings (``CELERY_*``), with tasks
found in each app's ``tasks.py`` and in ``itsm.tasks``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

app = Celery("itsm", include=["itsm.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
