"""Errors outside a view's own handling: JSON under /api/, Django's pages
elsewhere, and a body over Django's size limit answered as the API's 413."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from incidents.api import views as api_views
from incidents.roles import Role
from incidents.services.alerts import integration_create
from incidents.services.tokens import api_token_create
from tests.factories import make_user

pytestmark = pytest.mark.django_db

# Over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB by default).
OVER_DJANGOS_LIMIT = 3 * 1024 * 1024


@pytest.fixture
def agent_token(db: Any) -> str:
    return api_token_create(user=make_user(role=Role.AGENT), name="tests")[1]


def _assert_api_json(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_an_unexpected_api_error_answers_json(
    agent_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_views.services, "incident_log", broken)
    response = Client(raise_request_exception=False).post(
        "/api/v1/incidents/",
        {"title": "Printer on fire"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {agent_token}",
    )
    body = _assert_api_json(response, 500)
    assert body["code"] == "server_error"
    assert "a bug" not in response.content.decode()


def test_an_unexpected_page_error_stays_html(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from itsm import views

    def broken(request: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "nav_items_for", broken)
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    response = client.get("/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_api_path_answers_json(db: Any) -> None:
    body = _assert_api_json(Client().get("/api/v1/nothing-here/"), 404)
    assert body["code"] == "not_found"
    assert Client().get("/nothing-here/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/alerts/", "/api/v1/incidents/"])
def test_a_json_body_over_djangos_limit_is_the_apis_413(
    agent_token: str, path: str
) -> None:
    token = agent_token
    if "alerts" in path:
        token = integration_create(name="monitor", kind="generic")[1]
    body = b'{"title": "' + b"x" * OVER_DJANGOS_LIMIT + b'"}'
    response = Client().post(
        path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert _assert_api_json(response, 413)["detail"]


def test_a_request_django_refuses_before_the_api_answers_json(db: Any) -> None:
    response = Client().get("/api/v1/incidents/", HTTP_HOST="evil.example.com")
    assert _assert_api_json(response, 400)["code"] == "bad_request"
    page = Client().get("/portal/", HTTP_HOST="evil.example.com")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


def test_a_403_is_logged_as_one_line_without_a_traceback(
    db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(make_user(role=Role.REQUESTER))
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/console/").status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Forbidden (Permission denied): /console/"
    assert record.exc_info is None
    assert "Traceback" not in caplog.text
