"""/healthz and /readyz: what a load balancer or orchestrator asks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from itsm import health
from itsm.celery import app as celery_app
from itsm.tasks import worker_heartbeat_record_task

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_without_touching_anything(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_probes_answer_any_host_header(client: Client) -> None:
    # Orchestrators probe by pod IP, which is not in ALLOWED_HOSTS.
    response = client.get("/readyz/", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_probes_refuse_post(client: Client) -> None:
    assert client.post("/readyz").status_code == 405


def test_readyz_answers_200_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["failed"] == []
    assert body["checks"] == {"database": "ok", "broker": "ok"}


@pytest.fixture
def dead_database(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real connection to a database that cannot be reached."""
    dead = connections.create_connection("default")
    if dead.vendor == "sqlite":
        dead.settings_dict = {
            **dead.settings_dict,
            "NAME": "/nonexistent/dir/db.sqlite3",
        }
    else:
        dead.settings_dict = {**dead.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}
    monkeypatch.setattr(health, "connections", {"default": dead})
    yield dead
    dead.close()


def test_readyz_reports_dead_database_as_503(
    client: Client, dead_database: Any
) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database"]
    assert body["checks"]["database"] == "failed: OperationalError"
    assert body["checks"]["broker"] == "ok"


def test_readyz_reports_dead_redis_broker_as_503(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: a real connection attempt, refused.
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("failed: ")


def test_readyz_reports_missing_embedded_broker_folder_as_503(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gone = str(tmp_path / "gone")
    monkeypatch.setitem(celery_app.conf, "broker_url", "filesystem://")
    monkeypatch.setitem(
        celery_app.conf,
        "broker_transport_options",
        {"data_folder_in": gone, "data_folder_out": gone, "control_folder": gone},
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failed: OSError"


def test_readyz_reports_the_worker_heartbeat(client: Client) -> None:
    from django.core.cache import cache

    cache.delete(health.HEARTBEAT_CACHE_KEY)
    assert client.get("/readyz").json()["worker"] == {
        "last_heartbeat": None,
        "age_seconds": None,
    }
    worker_heartbeat_record_task()  # what the worker runs when beat sends it
    worker = client.get("/readyz").json()["worker"]
    assert worker["last_heartbeat"] is not None
    assert 0 <= worker["age_seconds"] < 60


def test_heartbeat_is_scheduled_by_beat() -> None:
    entry = celery_app.conf.beat_schedule["worker-heartbeat"]
    assert entry["task"] == worker_heartbeat_record_task.name
    assert entry["task"] in celery_app.tasks
