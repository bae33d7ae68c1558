from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.core.cache import cache, caches

from authcache.permissions import VERSION_KEY as PERMISSIONS_VERSION_KEY
from incidents.console.queue import CHOICES_KEY
from incidents.models import PriorityMatrixCell, SlaPolicy
from incidents.roles import Role
from incidents.sla.policies import POLICIES_KEY
from tests.factories import make_user


def pytest_report_header(config: pytest.Config) -> str:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {engine}, broker: {settings.CELERY_BROKER_URL.split(':')[0]}"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip PostgreSQL-only tests on other databases, saying why. CI runs on
    PostgreSQL and fails the build if any test was skipped."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)"
    )
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


# Data migrations that load defaults the product needs (all idempotent).
DATA_MIGRATIONS = [
    ("incidents.migrations.0003_default_priority_matrix", "load_default_matrix"),
    ("incidents.migrations.0006_default_sla_policies", "load_defaults"),
]


@pytest.fixture(autouse=True)
def migration_data(request: pytest.FixtureRequest) -> None:
    """A transactional test's flush removes what data migrations loaded, for the
    tests after it (and, with --reuse-db, for later runs): load it again."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    request.getfixturevalue("db")
    if PriorityMatrixCell.objects.count() == 9 and SlaPolicy.objects.exists():
        return
    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(global_apps, None)


@pytest.fixture(autouse=True)
def fresh_console_choices() -> None:
    """The queue's select options and the SLA policies live in the shared cache,
    which outlives each test's rolled-back transaction: start every test without
    them, nor any cached permissions."""
    cache.delete(CHOICES_KEY)
    cache.delete(POLICIES_KEY)
    # Cached permissions are keyed by user id, which a new test may reuse; so
    # are kept pages (SQLite hands out a rolled-back test's ids again).
    cache.delete(PERMISSIONS_VERSION_KEY)
    caches["fragments"].clear()


@pytest.fixture
def cache_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call on the shared cache fails, as when Redis is unreachable."""
    from itsm import cache as shared

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache down")

    for method in ("get", "set", "add", "delete", "get_many", "delete_many"):
        monkeypatch.setattr(shared.cache, method, down)


@pytest.fixture(autouse=True)
def one_alert_placer(settings: Any) -> None:
    """Placers in threads have connections of their own, which cannot see a
    test's open transaction: one placer, unless a test asks for more."""
    settings.ALERT_PLACEMENT_THREADS = 1


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def attachments_dir(settings: Any, tmp_path: Any) -> Any:
    """Uploaded files go to a folder of the test's own."""
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    return settings.ATTACHMENTS_DIR


@pytest.fixture
def end_user(db: Any) -> Any:
    return make_user(role=Role.REQUESTER, username="rita")


@pytest.fixture
def agent(db: Any) -> Any:
    return make_user(role=Role.AGENT, username="alex")


@pytest.fixture
def incident_manager(db: Any) -> Any:
    return make_user(role=Role.INCIDENT_MANAGER, username="imani")


@pytest.fixture
def manager(db: Any) -> Any:
    return make_user(role=Role.MANAGER, username="morgan")


@pytest.fixture
def administrator(db: Any) -> Any:
    """An admin by role (staff, in the Admin group), not a superuser."""
    return make_user(role=Role.ADMIN, username="ada")
