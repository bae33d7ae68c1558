"""End to end: a real Celery worker with an embedded beat, on a broker of the
test's own and the test database, escalates a P1 whose response target has
passed; nobody calls a task by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import Incident, IncidentEvent
from tests.processes import processes, project_env


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
    escalated = Incident.objects.filter(pk=incident.pk, tier=2)
    with processes(tmp_path) as run:
        _, redis_url = run.redis()
        env = project_env(tmp_path, redis_url, SLA_SWEEP_SECONDS="2")
        run.worker("worker", env, beat=True)
        run.wait_until("the P1 is escalated", escalated.exists)
    incident.refresh_from_db()
    assert incident.team == org.upper
    assert incident.respond_breached_at is not None
    kinds = set(incident.events.values_list("kind", flat=True))
    assert {IncidentEvent.Kind.SLA_BREACHED, IncidentEvent.Kind.ESCALATED} <= kinds
    assert incident.status == Incident.Status.NEW
