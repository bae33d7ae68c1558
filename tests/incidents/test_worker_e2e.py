"""End to end: a real Celery worker with an embedded beat, on the real broker and
the test database, escalates a P1 whose response target has passed; nobody calls
a task by hand."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents import services
from incidents.models import Incident, IncidentEvent


def _worker_env(tmp_path: Path) -> dict[str, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings",
        "DEBUG": "1",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "SLA_SWEEP_SECONDS": "2",
        "VAR_DIR": str(tmp_path),  # the embedded broker, if there is no Redis
    }
    if settings.REDIS_URL:
        # A database of its own on the CI Redis, eight above the suite's: no
        # leftovers from other runs, and checkouts whose suites use different
        # databases do not share the worker's either.
        base, _, index = settings.REDIS_URL.rpartition("/")
        own = int(index) if index.isdigit() else 0
        env["REDIS_URL"] = f"{base}/{(own + 8) % 16}"
    return env


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_escalate_an_overdue_p1(
    org: SimpleNamespace, tmp_path: Path
) -> None:
    incident = services.incident_log(
        by=org.agent,
        title="Payments down",
        source="agent",
        category=org.category,
        impact="high",
        urgency="high",
        now=timezone.now() - timedelta(minutes=20),  # response due 5 minutes ago
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "itsm",
            "worker",
            "--beat",
            "--pool=solo",
            "--loglevel=INFO",
            f"--schedule={tmp_path / 'beat-schedule'}",
        ],
        cwd=settings.BASE_DIR,
        env=_worker_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.poll() is None:
            incident.refresh_from_db()
            if incident.tier == 2:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert incident.tier == 2, output[-4000:]
    assert incident.team == org.upper
    assert incident.respond_breached_at is not None
    kinds = set(incident.events.values_list("kind", flat=True))
    assert {IncidentEvent.Kind.SLA_BREACHED, IncidentEvent.Kind.ESCALATED} <= kinds
    assert Incident.objects.filter(pk=incident.pk, status="new").exists()
