"""A Celery worker SIGKILLed in the middle of an SLA sweep: its open transaction is
rolled back by PostgreSQL, and the next worker's sweep claims what is left. Every
escalation, and every notification of it, happens exactly once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from incidents.models import Incident, IncidentEvent, Notification
from tests.faults.conftest import events_per_incident, overdue_p1s
from tests.faults.mailbox import assert_each_notified_once, mail_env
from tests.processes import processes, project_env

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

K = IncidentEvent.Kind
OVERDUE = 60


def test_a_worker_killed_mid_sweep_leaves_every_escalation_done_once(
    org: SimpleNamespace, tmp_path: Path
) -> None:
    incidents = overdue_p1s(
        org.agent, org.category, OVERDUE, logged_ago=timedelta(minutes=20)
    )
    breached = Incident.objects.filter(respond_breached_at__isnull=False)
    settings = mail_env(tmp_path)
    with processes(tmp_path) as run:
        _, redis_url = run.redis()
        env = project_env(tmp_path, redis_url, **settings)
        first = run.worker("first", env, beat=True)
        run.wait_until("the first sweep has begun", breached.exists, timeout=60)
        first.kill()
        done_before_kill = breached.count()
        assert 0 < done_before_kill < OVERDUE, "the kill must land mid-sweep"

        run.worker("second", env, beat=True)
        run.wait_until(
            "every incident escalated and every notification sent",
            lambda: (
                Incident.objects.filter(tier=2).count() == OVERDUE
                and not Notification.objects.exclude(status="sent").exists()
            ),
        )

    assert events_per_incident(K.SLA_BREACHED) == {i.pk: 1 for i in incidents}
    assert events_per_incident(K.ESCALATED) == {i.pk: 1 for i in incidents}
    assert events_per_incident(K.UNASSIGNED_MAJOR) == {i.pk: 1 for i in incidents}
    assert_each_notified_once(Path(settings["FAULTS_MAILBOX"]))
