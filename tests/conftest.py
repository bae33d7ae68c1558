from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from incidents.models import DEFAULT_MATRIX, PriorityMatrixCell
from incidents.roles import Role
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


@pytest.fixture(autouse=True)
def default_priority_matrix(request: pytest.FixtureRequest) -> None:
    """The matrix rows come from a data migration, and a transactional test's flush
    removes them for the tests after it (and, with --reuse-db, for later runs);
    put back any that are missing."""
    if (
        "db" not in request.fixturenames
        and "transactional_db" not in request.fixturenames
    ):
        return
    request.getfixturevalue("db")
    existing = set(PriorityMatrixCell.objects.values_list("impact", "urgency"))
    PriorityMatrixCell.objects.bulk_create(
        PriorityMatrixCell(impact=impact, urgency=urgency, priority=priority)
        for (impact, urgency), priority in DEFAULT_MATRIX.items()
        if (impact, urgency) not in existing
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
