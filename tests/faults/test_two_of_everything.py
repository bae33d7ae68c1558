"""Two beats started by mistake, two web servers and two workers on one database
and one broker: every escalation, reminder and notification still happens
exactly once. Each beat sends every sweep, so both workers sweep at the same time;
the sweep's claims (a conditional UPDATE whose row count is checked) and the
outbox's claims make the second one find nothing left to do."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from incidents.models import Incident, IncidentEvent, Notification
from incidents.services.tokens import api_token_create
from tests.faults.conftest import events_per_incident, overdue_p1s
from tests.faults.mailbox import assert_each_notified_once, mail_env
from tests.processes import call, processes, project_env

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

K = IncidentEvent.Kind
OVERDUE = 30
REPORTS = 20


def test_two_beats_two_web_servers_and_two_workers_do_everything_once(
    org: SimpleNamespace, tmp_path: Path
) -> None:
    # Logged 40 minutes ago: response missed (an escalation), no assignee (the
    # incident managers hear of it), no stakeholder update in 30 minutes (a
    # reminder).
    overdue = overdue_p1s(
        org.agent, org.category, OVERDUE, logged_ago=timedelta(minutes=40)
    )
    _, token = api_token_create(user=org.agent, name="two-of-everything")
    settings = mail_env(tmp_path)
    with processes(tmp_path) as run:
        _, redis_url = run.redis()
        env = project_env(tmp_path, redis_url, **settings)
        workers = [run.worker(name, env, beat=True) for name in ("one", "two")]
        ports = [run.gunicorn(name, env) for name in ("web-one", "web-two")]

        def report(n: int) -> int:
            body = {"title": f"Badge reader {n} dead", "requester": org.requester.pk}
            port = ports[n % 2]
            status, _ = call(port, "POST", "/api/v1/incidents/", token=token, body=body)
            return status

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(report, range(REPORTS))) == [201] * REPORTS

        reminded = IncidentEvent.objects.filter(kind=K.UPDATE_OVERDUE)
        run.wait_until(
            "every escalation and reminder made, every notification sent",
            lambda: (
                Incident.objects.filter(tier=2).count() == OVERDUE
                and reminded.count() >= OVERDUE
                and Notification.objects.filter(event="requester_logged").count()
                == REPORTS
                and not Notification.objects.exclude(status="sent").exists()
            ),
        )
        for worker in workers:  # both beats did send the sweeps
            assert "Sending due task sla-sweep" in worker.log.read_text()

    expected = {i.pk: 1 for i in overdue}
    assert events_per_incident(K.SLA_BREACHED) == expected
    assert events_per_incident(K.ESCALATED) == expected
    assert events_per_incident(K.UNASSIGNED_MAJOR) == expected
    assert events_per_incident(K.UPDATE_OVERDUE) == expected
    assert_each_notified_once(Path(settings["FAULTS_MAILBOX"]))
