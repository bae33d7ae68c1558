"""PostgreSQL goes away under a running gunicorn and comes back: while it is
away the probe says so, the API answers 503 JSON with Retry-After (senders retry
a 5xx) and pages a plain 503 page; when it is back everything works again with
no restart. The database is cut by a proxy of the test's own between gunicorn
and the real server, never by touching the server, which other suites share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from incidents.models import AlertDelivery, Incident
from incidents.roles import Role
from incidents.services.alert_placement import alerts_place_awaiting
from incidents.services.alerts import integration_create
from incidents.services.tokens import api_token_create
from itsm.errors import DATABASE_RETRY_AFTER_SECONDS
from tests.factories import make_user
from tests.faults.tcp_proxy import CuttableProxy
from tests.live_server import database_address, gunicorn_serving, request, server_env

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


class Callers:
    """A monitoring tool, a script with an agent's token and an agent in the
    browser (a session cookie), all talking to the server on ``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        _, self.integration = integration_create(name="prometheus", kind="generic")
        agent = make_user(role=Role.AGENT, username="alex")
        _, self.token = api_token_create(user=agent, name="script")
        browser = Client()
        browser.force_login(agent)
        self.session = browser.cookies["sessionid"].value

    def alert(self, key: str) -> tuple[int, dict[str, str], bytes]:
        body = {"dedup_key": key, "title": f"Disk full on {key}"}
        return request(
            self.port,
            "POST",
            "/api/v1/alerts/",
            body=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.integration}",
                "Content-Type": "application/json",
            },
        )

    def api_list(self) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {self.token}"}
        return request(self.port, "GET", "/api/v1/incidents/", headers=headers)

    def console(self) -> tuple[int, dict[str, str], bytes]:
        headers = {"Cookie": f"sessionid={self.session}"}
        return request(self.port, "GET", "/console/", headers=headers)

    def readyz(self) -> tuple[int, dict[str, str], bytes]:
        return request(self.port, "GET", "/readyz")


def _assert_api_503(answer: tuple[int, dict[str, str], bytes]) -> None:
    status, headers, body = answer
    assert status == 503, body[:300]
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert json.loads(body)["code"] == "database_unavailable"


def _assert_all_work(callers: Callers, key: str) -> None:
    assert callers.readyz()[0] == 200
    assert callers.alert(key)[0] == 202
    alerts_place_awaiting()  # what the worker does right after the 202
    status, _, body = callers.api_list()
    assert status == 200 and key in body.decode()
    status, _, body = callers.console()
    assert status == 200 and b"Queue" in body


def test_the_service_says_the_database_is_away_and_recovers_by_itself(
    tmp_path: Path,
) -> None:
    with CuttableProxy(database_address()) as proxy:
        env = server_env(tmp_path, database_port=proxy.port)
        with gunicorn_serving(env, tmp_path / "gunicorn.log") as port:
            callers = Callers(port)
            _assert_all_work(callers, "before")  # connections open and kept

            proxy.cut()
            status, headers, body = callers.readyz()
            assert status == 503
            assert json.loads(body)["failed"] == ["database"]
            _assert_api_503(callers.alert("during"))
            _assert_api_503(callers.api_list())
            status, headers, body = callers.console()
            assert status == 503
            assert headers["Content-Type"].startswith("text/html")
            assert headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
            assert b"Temporarily unavailable" in body
            # Asked again while it is still away: the same answers, not a 500.
            _assert_api_503(callers.alert("during"))

            proxy.restore()
            _assert_all_work(callers, "after")  # the first requests after: no retry
        log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Internal Server Error" not in log
    # The alert sent while the database was away wrote nothing; the others did.
    assert sorted(Incident.objects.values_list("title", flat=True)) == [
        "Disk full on after",
        "Disk full on before",
    ]
    assert AlertDelivery.objects.count() == 2
