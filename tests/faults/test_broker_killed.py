"""The broker killed in the middle of a burst of work, then started again: every
notification the burst made is delivered, each exactly once. The outbox row is the
guarantee; the broker only carries the nudge, and the beat's notification sweep
delivers what a dead broker never passed on."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from incidents.models import Incident, Notification
from incidents.services.tokens import api_token_create
from tests.faults.mailbox import mail_env, sent
from tests.processes import call, processes, project_env

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

BURST = 30


def test_a_burst_across_a_broker_outage_notifies_each_requester_once(
    org: SimpleNamespace, tmp_path: Path
) -> None:
    _, token = api_token_create(user=org.agent, name="burst")
    settings = mail_env(tmp_path)
    with processes(tmp_path) as run:
        redis, redis_url = run.redis()
        env = project_env(tmp_path, redis_url, **settings)
        run.worker("worker", env, beat=True)
        port = run.gunicorn("web", env)

        answers: list[int] = []
        counted = threading.Lock()

        def report(n: int) -> None:
            body = {"title": f"Printer {n} jams", "requester": org.requester.pk}
            status, _ = call(port, "POST", "/api/v1/incidents/", token=token, body=body)
            with counted:
                answers.append(status)
                if len(answers) == BURST // 3:
                    redis.kill()  # a third of the burst answered: the broker dies
                elif len(answers) == 2 * BURST // 3:
                    run.redis(port=int(redis_url.rsplit(":", 1)[1].split("/")[0]))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(report, range(BURST)))
        assert answers == [201] * BURST

        notifications = Notification.objects.filter(event="requester_logged")
        run.wait_until(
            "every notification sent",
            lambda: (
                notifications.filter(status=Notification.Status.SENT).count() == BURST
            ),
        )
        web_log = (tmp_path / "web.log").read_text()
        assert "broker unavailable" in web_log  # the outage did hit the burst

    numbers = Incident.objects.values_list("id", "title")
    expected = sorted(
        (org.requester.email, f"INC-{pk:06d} received: {title}")
        for pk, title in numbers
    )
    assert sent(Path(settings["FAULTS_MAILBOX"])) == expected
    assert notifications.count() == BURST
