"""The production stack's files point at code and settings that exist.

No Docker engine runs on our machines, so these read docker-compose.yml and the
Dockerfile and check every command against the project itself.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from django.conf import settings
from django.core.management import get_commands

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]
SETTINGS_SOURCE = (BASE_DIR / "itsm" / "settings.py").read_text()
# Every environment variable the settings read, through the typed helpers.
SETTINGS_ENV = set(
    re.findall(r'env(?:str|bool|int|list)\(\s*"([A-Z_]+)"', SETTINGS_SOURCE)
)


def check_command(argv: list[str]) -> None:
    """Fail unless ``argv`` starts a program of ours with modules that exist."""
    program = argv[0]
    if program == "gunicorn":
        module, attr = argv[1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    elif program == "celery":
        assert argv[1] == "-A"
        app = importlib.import_module(argv[2]).celery_app
        assert isinstance(app, Celery)
        assert argv[3] in {"worker", "beat", "inspect"}
    elif program == "python":
        assert argv[1] == "manage.py"
        assert (BASE_DIR / "manage.py").exists()
        assert argv[2] in get_commands()
    else:
        pytest.fail(f"unexpected program {program!r}")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_services_run_commands_that_exist(name: str) -> None:
    service = SERVICES[name]
    assert service["build"] == "."
    check_command(service["command"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_services_set_only_variables_the_settings_read(name: str) -> None:
    environment = SERVICES[name]["environment"]
    assert set(environment) <= SETTINGS_ENV
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert environment["DEBUG"] == "0"
    # The stack refuses to start without a secret key of the operator's own.
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_compose_app_services_wait_for_migrations_and_healthy_backends(
    name: str,
) -> None:
    assert SERVICES[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker"])
def test_compose_services_have_health_checks(name: str) -> None:
    test = SERVICES[name]["healthcheck"]["test"]
    command = test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])
    if name == "web":
        assert "/readyz" in command
    if name == "worker":
        check_command(shlex.split(command))


def test_compose_volumes_are_declared() -> None:
    used = {
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
    }
    assert used == set(COMPOSE["volumes"])
    assert {"postgres-data", "redis-data", "beat-data"} <= used


def test_dockerfile_runs_the_wsgi_app_on_python_311() -> None:
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    cmd = re.search(r"^CMD (\[.*\])", dockerfile, re.M)
    assert cmd is not None
    check_command(yaml.safe_load(cmd.group(1)))
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER (?!root)", dockerfile, re.M)


def test_procfile_for_make_run_starts_web_worker_and_beat() -> None:
    lines = (BASE_DIR / "Procfile.dev").read_text().splitlines()
    processes = dict(line.split(": ", 1) for line in lines if line.strip())
    assert set(processes) == {"web", "worker", "beat"}
    check_command(["python", *shlex.split(processes["web"])[1:3]])
    # ``exec``: the shell honcho starts becomes the program, which then hears
    # Ctrl-C itself and reports its own exit status.
    for name in ("worker", "beat"):
        argv = shlex.split(processes[name])
        assert argv[0] == "exec"
        check_command(argv[1:])


def test_readme_documents_every_environment_variable() -> None:
    readme = (BASE_DIR / "README.md").read_text()
    missing = sorted(name for name in SETTINGS_ENV if f"`{name}`" not in readme)
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    head = (BASE_DIR / "README.md").read_text()[:1500]
    assert "make run" in head
    assert "make test" in head


def test_make_run_links_emails_to_the_address_it_serves() -> None:
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=9123"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SITE_URL"},
        check=True,
    ).stdout
    command = dry[dry.index('PATH="') :]
    assert 'SITE_URL="${SITE_URL:-http://127.0.0.1:9123}"' in command
    assert "WEB_PORT=9123" in command and "honcho" in command
